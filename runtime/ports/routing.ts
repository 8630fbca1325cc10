import type { ConnectionId, UserId } from "../ids.js";

/**
 * Connection routing, presence and node liveness: ephemeral state with TTLs (Redis in a cluster, memory when
 * embedded). Losing it only forces reconnects; nothing durable lives here. Every change that touches several
 * keys is atomic (Redis MULTI or Lua). Times are epoch milliseconds.
 */
export interface ConnectionEntry {
  readonly connectionId: ConnectionId;
  readonly userId: UserId;
  readonly deviceId: string;
  readonly gatewayId: string;
  readonly connectedAt: number;
  readonly lastHeartbeatAt: number;
}

export interface ConnectionRef {
  readonly connectionId: ConnectionId;
  readonly userId: UserId;
}

export interface Presence {
  readonly status: "online" | "offline";
  /** When the user's last connection went away; null while online or never seen. */
  readonly lastSeenAt: number | null;
}

/** How long a user's last-seen time outlives their last connection, unless an adapter is told otherwise. */
export const DEFAULT_LAST_SEEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface ConnectionRegistry {
  /**
   * Records a connection (connection entry, the user's connections, the user's gateways, the gateway's
   * connections), all expiring after `ttlMs` unless refreshed. Returns the connections of the same
   * `(user, device)` that were registered before, so the caller can evict them (`duplicate_connection`).
   */
  register(entry: ConnectionEntry, ttlMs: number): Promise<ConnectionEntry[]>;

  /**
   * Extends the TTL of the given connections of one gateway and records `heartbeatAt` (D6: gateways refresh
   * on their own timer, not per client heartbeat). Connections whose entry already expired are re-created.
   */
  refresh(
    gatewayId: string,
    connections: readonly ConnectionEntry[],
    ttlMs: number,
    heartbeatAt: number,
  ): Promise<void>;

  /** Removes a connection; tolerates keys that already expired. Records last-seen when it was the last one. */
  unregister(connection: ConnectionRef & { readonly gatewayId: string }, at: number): Promise<void>;

  getConnection(connectionId: ConnectionId): Promise<ConnectionEntry | undefined>;

  /** Live connections of a user, ordered by connection id. */
  connectionsOfUser(userId: UserId): Promise<ConnectionEntry[]>;

  /** Gateways holding at least one live connection of each user (one round trip for many users). */
  gatewaysOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, string[]>>;

  /** Presence of each user: online iff at least one live connection. */
  presenceOf(userIds: readonly UserId[]): Promise<Map<UserId, Presence>>;
}

export const NODE_ROLES = ["gateway", "ingest", "fanout", "chatmgmt"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export interface NodeInfo {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** Where peers reach the node, e.g. its gRPC `host:port`. */
  readonly address: string;
  readonly startedAt: number;
  /** Ingest nodes: how far they have applied the ring (D5), announced with every heartbeat. */
  readonly placement?: NodePlacement;
}

export interface NodePlacement {
  /** The ring version whose handoffs the node has finished. */
  readonly ringVersion: number;
  readonly activeActors: number;
  /** Actors still finishing their mailbox and outbox after their chat moved away. */
  readonly handoffsPending: number;
}

export interface NodeRegistry {
  /** Announces the node as live for `ttlMs`; call again before it expires. */
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;

  /** Removes the node at once (graceful shutdown). */
  leave(nodeId: string): Promise<void>;

  /** Nodes whose last heartbeat has not expired, of one role or all, ordered by node id. */
  liveNodes(role?: NodeRole): Promise<NodeInfo[]>;
}
