import type { Clock } from "../../runtime/clock.js";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import type { Logger } from "../../runtime/logger.js";
import type { NodeInfo, NodeRegistry } from "../../runtime/ports/routing.js";

/** A gateway node as the node registry announces it: its id (= its `gatewayId` in routing) and address. */
export type GatewayNode = Pick<NodeInfo, "nodeId" | "address">;

/**
 * Builds the GatewayApi of one gateway: the in-process gateway when embedded, a gRPC client to
 * `node.address` in a cluster. Called once per (node id, address); the worker keeps the result.
 */
export type GatewayFor = (node: GatewayNode) => GatewayApi;

export interface LiveGatewaysOptions {
  readonly nodes: Pick<NodeRegistry, "liveNodes">;
  readonly gatewayFor: GatewayFor;
  readonly clock: Pick<Clock, "now">;
  readonly logger: Logger;
  /** The live-gateway list is re-read when older than this, or when routing names a gateway not in it. */
  readonly refreshMs: number;
}

export interface ResolvedGateway {
  readonly node: GatewayNode;
  readonly api: GatewayApi;
}

/**
 * The live gateways and a GatewayApi for each. Routing entries name gateways by id; their addresses come
 * from the node registry. When the registry cannot be read (Redis down, which is also when fanout must
 * broadcast, D7) the last list read is used: a stale list costs at most a push to a gone gateway (a failed
 * call, skipped) or a missed new one (its clients heal by sync).
 */
export class LiveGateways {
  private known: GatewayNode[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readonly apis = new Map<string, ResolvedGateway>();
  private refreshFailures = 0;

  constructor(private readonly options: LiveGatewaysOptions) {}

  /** Every live gateway (the broadcast targets). */
  async all(): Promise<ResolvedGateway[]> {
    if (this.options.clock.now() - this.readAt >= this.options.refreshMs) await this.refresh();
    return this.known.flatMap((node) => this.resolved(node) ?? []);
  }

  /** The gateways of these ids; ids that are not live gateways (their node expired) are left out. */
  async byIds(ids: Iterable<string>): Promise<Map<string, ResolvedGateway>> {
    const wanted = new Set(ids);
    const lookup = () => new Map(this.known.map((node) => [node.nodeId, node] as const));
    let byId = lookup();
    const missing = [...wanted].some((id) => !byId.has(id));
    if (missing || this.options.clock.now() - this.readAt >= this.options.refreshMs) {
      await this.refresh();
      byId = lookup();
    }
    const result = new Map<string, ResolvedGateway>();
    for (const id of wanted) {
      const node = byId.get(id);
      const gateway = node === undefined ? undefined : this.resolved(node);
      if (gateway !== undefined) result.set(id, gateway);
    }
    return result;
  }

  /** How many times the node registry could not be read (the last list was used instead). */
  get failedRefreshes(): number {
    return this.refreshFailures;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const nodes = await this.options.nodes.liveNodes("gateway");
        this.known = nodes.map(({ nodeId, address }) => ({ nodeId, address }));
        this.readAt = this.options.clock.now();
      } catch (error) {
        this.refreshFailures++;
        this.options.logger.warn(
          { err: error, known_gateways: this.known.length },
          "live gateways unreadable; using the last list",
        );
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** The gateway's API, made once per (id, address); undefined (and logged) when it cannot be made. */
  private resolved(node: GatewayNode): ResolvedGateway | undefined {
    const key = `${node.nodeId}@${node.address}`;
    let entry = this.apis.get(key);
    if (entry === undefined) {
      try {
        entry = { node, api: this.options.gatewayFor(node) };
      } catch (error) {
        // A gateway announced with an unusable address must not stall the partition: it is skipped.
        this.options.logger.warn(
          { err: error, gateway_id: node.nodeId, address: node.address },
          "no client for gateway",
        );
        return undefined;
      }
      this.apis.set(key, entry);
    }
    return entry;
  }
}
