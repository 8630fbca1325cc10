import { type Clock, SystemClock } from "./clock.js";
import type { CloseConnectionsRequest, EphemeralFrame, GatewayApi } from "./gateway-api.js";
import { GatewayGrpcClient } from "./grpc/gateway-client.js";
import type { UserId } from "./ids.js";
import type { Logger } from "./logger.js";
import type { ConnectionRegistry, NodeInfo, NodeRegistry } from "./ports/routing.js";

export interface GatewayDirectoryOptions {
  readonly nodes: NodeRegistry;
  readonly connections: ConnectionRegistry;
  readonly logger: Logger;
  /** The gateway of this process, called in-process (embedded, or a gateway node calling itself). */
  readonly local?: { readonly nodeId: string; readonly api: GatewayApi };
  /** A client for a gateway's gRPC address; gRPC unless given. */
  readonly connect?: (address: string) => GatewayApi & { close(): void };
  /** For the short reuse of the live gateway list by ephemeral pushes; default: the system clock. */
  readonly clock?: Pick<Clock, "now">;
}

/** What an ephemeral push to users wherever they are connected came to. */
export interface EphemeralFanoutResult {
  readonly delivered: number;
  readonly noConnection: number;
  readonly dropped: number;
  /** Gateways that hold a recipient but could not be called (gone, or the call failed). */
  readonly failedGateways: number;
}

/** Sends ephemeral frames to users wherever they are connected (GatewayDirectory; a fake in unit tests). */
export interface EphemeralRouter {
  pushEphemeral(userIds: readonly UserId[], frame: EphemeralFrame): Promise<EphemeralFanoutResult>;
}

/**
 * How long ephemeral pushes reuse the list of live gateways: a typing user would otherwise cost a read of the
 * node registry per indicator. A gateway that started within it misses at most this long of indicators.
 */
const LIVE_GATEWAYS_REUSE_MS = 1_000;

/**
 * Finds gateways by node id for whoever must reach connections: fanout (Deliver, D7), chat management
 * (closing a revoked session's sockets) and gateways evicting a duplicate device held elsewhere. Gateways
 * announce their gRPC address in the node registry; the gateway of this process is called directly.
 */
export class GatewayDirectory implements EphemeralRouter {
  private readonly clients = new Map<string, GatewayApi & { close(): void }>();
  private readonly connect: (address: string) => GatewayApi & { close(): void };
  private readonly clock: Pick<Clock, "now">;
  private liveList: { readonly at: number; readonly nodes: Promise<NodeInfo[]> } | undefined;

  constructor(private readonly options: GatewayDirectoryOptions) {
    this.connect = options.connect ?? ((address) => new GatewayGrpcClient({ address }));
    this.clock = options.clock ?? new SystemClock();
  }

  /** The gateway with this node id, if it is live (or is this process's own). */
  async gateway(nodeId: string): Promise<GatewayApi | undefined> {
    if (nodeId === this.options.local?.nodeId) return this.options.local.api;
    const node = (await this.options.nodes.liveNodes("gateway")).find(
      (candidate) => candidate.nodeId === nodeId,
    );
    return node === undefined ? undefined : this.clientFor(node.address);
  }

  /** The GatewayApi of a gateway node as the registry announces it (fanout's `gatewayFor`). */
  apiFor(node: { readonly nodeId: string; readonly address: string }): GatewayApi {
    return node.nodeId === this.options.local?.nodeId ? this.options.local.api : this.clientFor(node.address);
  }

  /** Every live gateway (the broadcast of D7 when routing entries cannot be read). */
  async liveGateways(): Promise<Array<{ readonly nodeId: string; readonly api: GatewayApi }>> {
    const live = await this.options.nodes.liveNodes("gateway");
    const local = this.options.local;
    return live.map((node) => ({
      nodeId: node.nodeId,
      api: node.nodeId === local?.nodeId ? local.api : this.clientFor(node.address),
    }));
  }

  /**
   * Closes the matching connections wherever they are: the user's gateways from the routing entries, or every
   * live gateway when those cannot be read. Returns how many connections were closed; unreachable gateways
   * are logged and skipped (their sockets die with them).
   */
  async closeConnections(request: CloseConnectionsRequest): Promise<number> {
    // A revoked session concerns every gateway, not only those holding its connections: each must refuse the
    // session's tokens at its next handshake (protocol §3 `token_revoked`).
    const targets =
      request.reason === "session_revoked" ? await this.everyGateway() : await this.gatewaysOf(request);
    const closed = await Promise.all(
      targets.map(({ nodeId, api }) =>
        api.closeConnections(request).catch((error: unknown) => {
          this.options.logger.warn({ err: error, gateway: nodeId }, "a gateway could not close connections");
          return 0;
        }),
      ),
    );
    return closed.reduce((sum, n) => sum + n, 0);
  }

  /**
   * An ephemeral frame to every connection of `userIds` (typing indicators; presence and receipts later): one
   * routing read for all of them, then one PushEphemeral per gateway that holds any, in parallel, never
   * retried. Unlike D7 there is no broadcast when routing cannot be read: the read's failure rejects, and the
   * frame is lost, which is all an ephemeral frame is allowed to cost.
   */
  async pushEphemeral(userIds: readonly UserId[], frame: EphemeralFrame): Promise<EphemeralFanoutResult> {
    const result = { delivered: 0, noConnection: 0, dropped: 0, failedGateways: 0 };
    if (userIds.length === 0) return result;
    const byGateway = new Map<string, UserId[]>();
    for (const [userId, gateways] of await this.options.connections.gatewaysOfUsers(userIds)) {
      for (const nodeId of gateways) {
        const users = byGateway.get(nodeId);
        if (users === undefined) byGateway.set(nodeId, [userId]);
        else users.push(userId);
      }
    }
    if (byGateway.size === 0) return result;
    const localId = this.options.local?.nodeId;
    // Only other gateways are looked up among the live ones (one process: no registry read at all).
    const live = [...byGateway.keys()].every((nodeId) => nodeId === localId)
      ? []
      : await this.liveGatewayNodes();
    await Promise.all(
      [...byGateway].map(async ([nodeId, users]) => {
        const api = this.ephemeralTarget(nodeId, live);
        if (api === undefined) {
          result.failedGateways++;
          return;
        }
        try {
          const pushed = await api.pushEphemeral([{ userIds: users, frame }]);
          result.delivered += pushed.delivered;
          result.noConnection += pushed.noConnection;
          result.dropped += pushed.dropped;
        } catch (error) {
          result.failedGateways++;
          this.options.logger.debug({ err: error, gateway: nodeId }, "ephemeral push to a gateway failed");
        }
      }),
    );
    return result;
  }

  private ephemeralTarget(nodeId: string, live: readonly NodeInfo[]): GatewayApi | undefined {
    if (nodeId === this.options.local?.nodeId) return this.options.local.api;
    const node = live.find((candidate) => candidate.nodeId === nodeId);
    return node === undefined ? undefined : this.clientFor(node.address);
  }

  /** The live gateways, read at most once per LIVE_GATEWAYS_REUSE_MS (a failed read is not reused). */
  private liveGatewayNodes(): Promise<NodeInfo[]> {
    const now = this.clock.now();
    const cached = this.liveList;
    if (cached !== undefined && now - cached.at < LIVE_GATEWAYS_REUSE_MS) return cached.nodes;
    const nodes = this.options.nodes.liveNodes("gateway");
    const entry = { at: now, nodes };
    this.liveList = entry;
    nodes.catch(() => {
      if (this.liveList === entry) this.liveList = undefined;
    });
    return nodes;
  }

  /** The user's gateways from the routing entries, or every live gateway when those cannot be read. */
  private async gatewaysOf(
    request: CloseConnectionsRequest,
  ): Promise<Array<{ readonly nodeId: string; readonly api: GatewayApi }>> {
    try {
      const ids =
        (await this.options.connections.gatewaysOfUsers([request.userId])).get(request.userId) ?? [];
      const found = await Promise.all(
        ids.map(async (nodeId) => ({ nodeId, api: await this.gateway(nodeId) })),
      );
      return found.flatMap(({ nodeId, api }) => (api === undefined ? [] : [{ nodeId, api }]));
    } catch (error) {
      this.options.logger.warn({ err: error }, "routing unavailable: asking every gateway to close");
      return this.liveGateways();
    }
  }

  /** Every live gateway, this process's own included even before its first heartbeat. */
  private async everyGateway(): Promise<Array<{ readonly nodeId: string; readonly api: GatewayApi }>> {
    const targets = await this.liveGateways();
    const local = this.options.local;
    if (local !== undefined && !targets.some((target) => target.nodeId === local.nodeId))
      targets.push({ nodeId: local.nodeId, api: local.api });
    return targets;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private clientFor(address: string): GatewayApi {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = this.connect(address);
      this.clients.set(address, client);
    }
    return client;
  }
}
