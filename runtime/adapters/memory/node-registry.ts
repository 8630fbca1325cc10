import type { Clock } from "../../clock.js";
import type { NodeInfo, NodeRegistry, NodeRole } from "../../ports/routing.js";

export interface MemoryNodeRegistryOptions {
  /** Decides liveness: a node is live while `now() < lastHeartbeat + ttlMs`. */
  readonly clock: Pick<Clock, "now">;
}

/**
 * Node liveness in one process (the embedded mode, unit tests), with the Redis adapter's semantics (one
 * contract suite). One clock decides every expiry, as Redis's own clock does in a cluster; a node that stops
 * heartbeating is treated as gone once its time is up and dropped when next read.
 */
export class MemoryNodeRegistry implements NodeRegistry {
  private readonly clock: Pick<Clock, "now">;
  private readonly nodes = new Map<string, { readonly node: NodeInfo; readonly expiresAt: number }>();

  constructor(options: MemoryNodeRegistryOptions) {
    this.clock = options.clock;
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.nodes.set(node.nodeId, { node: Object.freeze({ ...node }), expiresAt: this.clock.now() + ttlMs });
  }

  async leave(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
  }

  async liveNodes(role?: NodeRole): Promise<NodeInfo[]> {
    const now = this.clock.now();
    const live: NodeInfo[] = [];
    for (const [nodeId, { node, expiresAt }] of this.nodes) {
      if (now >= expiresAt) this.nodes.delete(nodeId);
      else if (role === undefined || node.role === role) live.push(node);
    }
    return live.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}
