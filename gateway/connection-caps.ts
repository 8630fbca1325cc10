import type { UserId } from "../runtime/ids.js";
import type { GatewayRecorder } from "../runtime/metrics/recorders.js";
import type { Connection } from "./connection.js";
import { HandshakeRejection } from "./handshake.js";
import type { GatewayLimits } from "./limits.js";

/** Open connections per key (a user, a client address); keys at zero are forgotten. */
class OpenCounts<K> {
  private readonly counts = new Map<K, number>();

  of(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: K): void {
    this.counts.set(key, this.of(key) + 1);
  }

  remove(key: K): void {
    const left = this.of(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}

/** One upgrade request's places under the caps, from its first check until it is live or refused. */
export interface CapTicket {
  /** After the token check: the user's cap (a device that is connected already may always reconnect). */
  admitUser(userId: UserId, deviceId: string, held: Iterable<Connection>): void;
  /** The connection is live: it counts against its address until `released`. */
  established(connection: Connection): void;
  /** The handshake is over, live or refused: its pending places are given back (idempotent). */
  settle(): void;
}

/**
 * The gateway's caps on open connections per client address and per user (spec/planes-ops-security-testing.md
 * "Connections per user: 5 concurrent"). Upgrades still in their handshake count too, so a burst of parallel
 * upgrades cannot pass a cap together. Refusals are 429 `rate_limited` (protocol §3) with `details.limit`.
 */
export class ConnectionCaps {
  private readonly pendingByUser = new OpenCounts<UserId>();
  private readonly pendingByAddress = new OpenCounts<string>();
  private readonly liveByAddress = new OpenCounts<string>();
  private readonly addressOf = new WeakMap<Connection, string>();

  constructor(
    private readonly limits: Pick<
      GatewayLimits,
      "maxConnectionsPerIp" | "maxConnectionsPerUser" | "reconnectDelayMs"
    >,
    private readonly metrics: GatewayRecorder,
  ) {}

  /** Before the token check, so that one address cannot make the gateway verify unbounded tokens at once. */
  begin(address: string): CapTicket {
    const open = this.liveByAddress.of(address) + this.pendingByAddress.of(address);
    if (open >= this.limits.maxConnectionsPerIp) {
      throw this.refusal("connections_per_ip", this.limits.maxConnectionsPerIp, "from this address");
    }
    this.pendingByAddress.add(address);
    let pendingAddress = true;
    let pendingUser: UserId | undefined;
    return {
      admitUser: (userId, deviceId, held) => {
        const open = [...held].filter((connection) => connection.state !== "closed");
        const full = open.length + this.pendingByUser.of(userId) >= this.limits.maxConnectionsPerUser;
        const reconnecting = open.some((c) => c.isOpen && c.principal?.deviceId === deviceId);
        if (full && !reconnecting) {
          throw this.refusal("connections_per_user", this.limits.maxConnectionsPerUser, "for this user");
        }
        this.pendingByUser.add(userId);
        pendingUser = userId;
      },
      established: (connection) => {
        this.liveByAddress.add(address);
        this.addressOf.set(connection, address);
      },
      settle: () => {
        if (pendingAddress) this.pendingByAddress.remove(address);
        if (pendingUser !== undefined) this.pendingByUser.remove(pendingUser);
        pendingAddress = false;
        pendingUser = undefined;
      },
    };
  }

  /** A live connection is gone (per user, the gateway's own map of connections is the count). */
  released(connection: Connection): void {
    const address = this.addressOf.get(connection);
    if (address === undefined) return;
    this.addressOf.delete(connection);
    this.liveByAddress.remove(address);
  }

  private refusal(limit: string, max: number, what: string): HandshakeRejection {
    this.metrics.rateLimited("connect", "in_flight");
    return new HandshakeRejection(429, "rate_limited", `too many open connections ${what}`, {
      retry_after_seconds: Math.ceil(this.limits.reconnectDelayMs / 1000),
      limit,
      max_connections: max,
    });
  }
}
