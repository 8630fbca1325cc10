import type { Clock } from "../clock.js";
import type { RingAdmin } from "../placement/ring-admin.js";
import type { RingView } from "../placement/ring-view.js";
import type { NodeRegistry } from "../ports/routing.js";

/**
 * The ring as the inspector shows it: members (weight, state, liveness, share), the live nodes of every role,
 * chats and active actors per ingest node, and handoffs in progress. Chats per node come from a bounded scan
 * of the chats table mapped through this process's ring, cached for `cacheMs` (the page polls; a table scan
 * per poll would cost the database more than the page is worth).
 */
export interface RingOverviewOptions {
  readonly admin: RingAdmin;
  readonly view: RingView;
  readonly nodes: NodeRegistry;
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
  readonly clock: Clock;
  /** Chats examined at most per scan. */
  readonly scanLimit: number;
  readonly cacheMs: number;
}

interface ChatCount {
  readonly fingerprint: string;
  readonly at: number;
  readonly byNode: ReadonlyMap<string, number>;
  readonly examined: number;
  readonly complete: boolean;
}

export class RingOverview {
  private chats: ChatCount | undefined;
  private counting: Promise<ChatCount> | undefined;

  constructor(private readonly options: RingOverviewOptions) {}

  async describe(): Promise<Record<string, unknown>> {
    const [status, live, chats] = await Promise.all([
      this.options.admin.status(),
      this.options.nodes.liveNodes(),
      this.chatCount(),
    ]);
    const owners = this.options.view.current();
    return {
      version: status.version,
      updated_at: status.updatedAt,
      settled: status.settled,
      members: status.members.map((member) => ({
        node_id: member.nodeId,
        weight: member.weight,
        state: member.state,
        live: member.live,
        owner: owners.owners.some((owner) => owner.nodeId === member.nodeId),
        address: member.address,
        share: member.share,
        chats: chats.byNode.get(member.nodeId) ?? 0,
        active_actors: member.activeActors,
        applied_version: member.appliedVersion,
        handoffs_pending: member.handoffsPending,
      })),
      unassigned: status.unassigned.map((node) => ({ node_id: node.nodeId, address: node.address })),
      live_nodes: live.map((node) => ({ node_id: node.nodeId, role: node.role, address: node.address })),
      moves_in_progress: status.members
        .filter(
          (member) =>
            (member.handoffsPending ?? 0) > 0 ||
            (member.live && (member.appliedVersion ?? 0) < status.version),
        )
        .map((member) => ({
          node_id: member.nodeId,
          handoffs_pending: member.handoffsPending ?? 0,
          applied_version: member.appliedVersion,
        })),
      chats_counted: { examined: chats.examined, complete: chats.complete, ring_version: owners.version },
    };
  }

  private chatCount(): Promise<ChatCount> {
    const snapshot = this.options.view.current();
    const cached = this.chats;
    const now = this.options.clock.now();
    if (
      cached !== undefined &&
      cached.fingerprint === snapshot.fingerprint &&
      now - cached.at < this.options.cacheMs
    ) {
      return Promise.resolve(cached);
    }
    this.counting ??= (async () => {
      const { ids, complete } = await this.options.chatIds(this.options.scanLimit);
      const byNode = new Map<string, number>();
      for (const id of ids) {
        const owner = snapshot.ownerIdOf(id);
        if (owner !== undefined) byNode.set(owner, (byNode.get(owner) ?? 0) + 1);
      }
      const counted = { fingerprint: snapshot.fingerprint, at: now, byNode, examined: ids.length, complete };
      this.chats = counted;
      return counted;
    })().finally(() => {
      this.counting = undefined;
    });
    return this.counting;
  }
}
