import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { RingStore } from "../ports/ring-store.js";
import type { NodeInfo, NodeRegistry } from "../ports/routing.js";
import { PlacementRing } from "./hash-ring.js";
import { applyChange, ownersOf, type RingChange, type RingConfig, type RingMember } from "./ring-config.js";

/** One member as operators see it: configuration, liveness and handoff progress side by side. */
export interface MemberStatus extends RingMember {
  readonly live: boolean;
  readonly address: string | null;
  /** Share of chats this member owns now (0..1), by weight among the owners. */
  readonly share: number;
  /** The ring version whose handoffs it finished; null when not live. */
  readonly appliedVersion: number | null;
  readonly activeActors: number | null;
  readonly handoffsPending: number | null;
}

export interface RingStatus {
  readonly version: number;
  readonly updatedAt: number;
  readonly members: readonly MemberStatus[];
  /** Live ingest nodes that are not members (they own nothing until added). */
  readonly unassigned: readonly { readonly nodeId: string; readonly address: string }[];
  /** Every live ingest node has applied `version` and has no handoff left. */
  readonly settled: boolean;
}

export interface RingPlan {
  readonly change: RingChange;
  readonly fromVersion: number;
  readonly members: readonly RingMember[];
  /** Chats examined (every chat when `sampled` is false). */
  readonly chats: number;
  readonly sampled: boolean;
  /** How many of them would change owner. */
  readonly chatsMoved: number;
  /** Per owner after the change: chats gained and lost. */
  readonly moves: readonly { readonly nodeId: string; readonly gained: number; readonly lost: number }[];
  /**
   * Active actors that would be handed off, estimated per node as its active actors times the share of its
   * chats that move (nodes do not publish which chats are active).
   */
  readonly activeActorsMovedEstimate: number;
}

export interface RingAdminOptions {
  readonly store: RingStore;
  readonly nodes: NodeRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every chat id (for `plan`), e.g. a paged scan of the chats table. */
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
}

/** Chats examined by a plan at most: beyond this the figures come from a prefix of the table. */
const PLAN_CHAT_LIMIT = 200_000;
const WRITE_ATTEMPTS = 8;

/**
 * The operations of the operator interface (CLI and REST admin endpoints share it): show the ring, preview a
 * change, apply one with compare-and-set, and follow the handoff it starts until every live member has
 * applied it. Unsafe changes (an unknown node, a change that leaves no active owner) are refused.
 */
export class RingAdmin {
  constructor(private readonly options: RingAdminOptions) {}

  async status(): Promise<RingStatus> {
    const [config, live] = await Promise.all([
      this.options.store.read(),
      this.options.nodes.liveNodes("ingest"),
    ]);
    return describe(config, live);
  }

  /** Which node owns a chat now, by the same ring every process computes. */
  async ownerOf(chatId: string): Promise<{ chatId: string; owner: string | null; version: number }> {
    const [config, live] = await Promise.all([
      this.options.store.read(),
      this.options.nodes.liveNodes("ingest"),
    ]);
    const ring = new PlacementRing(ownersOf(config, new Set(live.map((node) => node.nodeId))));
    return { chatId, owner: ring.ownerOf(chatId) ?? null, version: config.version };
  }

  async plan(change: RingChange): Promise<RingPlan> {
    const [config, live, chats] = await Promise.all([
      this.options.store.read(),
      this.options.nodes.liveNodes("ingest"),
      this.options.chatIds(PLAN_CHAT_LIMIT),
    ]);
    const members = applyChange(config, change);
    const liveIds = new Set(live.map((node) => node.nodeId));
    // A node being added is assumed to come up: the plan shows the ring once it is live.
    if (change.kind === "add") liveIds.add(change.nodeId);
    const before = new PlacementRing(ownersOf(config, liveIds));
    const after = new PlacementRing(ownersOf({ ...config, members }, liveIds));
    const gained = new Map<string, number>();
    const lost = new Map<string, number>();
    const owned = new Map<string, number>();
    let moved = 0;
    for (const chat of chats.ids) {
      const from = before.ownerOf(chat);
      const to = after.ownerOf(chat);
      if (from !== undefined) owned.set(from, (owned.get(from) ?? 0) + 1);
      if (from === to) continue;
      moved++;
      if (from !== undefined) lost.set(from, (lost.get(from) ?? 0) + 1);
      if (to !== undefined) gained.set(to, (gained.get(to) ?? 0) + 1);
    }
    let activeMoved = 0;
    for (const node of live) {
      const ownedHere = owned.get(node.nodeId) ?? 0;
      if (ownedHere === 0) continue;
      activeMoved += ((node.placement?.activeActors ?? 0) * (lost.get(node.nodeId) ?? 0)) / ownedHere;
    }
    const ids = [...new Set([...gained.keys(), ...lost.keys()])].sort();
    return {
      change,
      fromVersion: config.version,
      members,
      chats: chats.ids.length,
      sampled: !chats.complete,
      chatsMoved: moved,
      moves: ids.map((nodeId) => ({ nodeId, gained: gained.get(nodeId) ?? 0, lost: lost.get(nodeId) ?? 0 })),
      activeActorsMovedEstimate: Math.round(activeMoved),
    };
  }

  /** Applies a change as a new version (compare-and-set, re-read and re-checked on a race). */
  async apply(change: RingChange): Promise<RingConfig> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const config = await this.options.store.read();
      const members = applyChange(config, change);
      const written = await this.options.store.write(config.version, members);
      if (written !== undefined) {
        this.options.logger.info({ change, ring_version: written.version }, "ring changed");
        return written;
      }
    }
    throw new AppError("SERVICE_UNAVAILABLE", "the ring kept changing under this change; try again");
  }

  /**
   * A node joining at start-up (auto-join): adds it as active unless it already is a member, whatever its
   * state (an operator's `drain` stays in force across restarts). Returns the configuration afterwards.
   */
  async join(nodeId: string, weight: number): Promise<RingConfig> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const config = await this.options.store.read();
      if (config.members.some((member) => member.nodeId === nodeId)) return config;
      const written = await this.options.store.write(
        config.version,
        applyChange(config, { kind: "add", nodeId, weight }),
      );
      if (written !== undefined) {
        this.options.logger.info({ node_id: nodeId, ring_version: written.version }, "joined the ring");
        return written;
      }
    }
    throw new AppError("SERVICE_UNAVAILABLE", "the ring kept changing while joining it");
  }
}

export function describe(config: RingConfig, live: readonly NodeInfo[]): RingStatus {
  const liveById = new Map(live.map((node) => [node.nodeId, node]));
  const owners = ownersOf(config, new Set(liveById.keys()));
  const totalWeight = owners.reduce((sum, member) => sum + member.weight, 0);
  const members = config.members.map((member): MemberStatus => {
    const node = liveById.get(member.nodeId);
    const owns = owners.includes(member);
    return {
      ...member,
      live: node !== undefined,
      address: node?.address ?? null,
      share: owns && totalWeight > 0 ? member.weight / totalWeight : 0,
      appliedVersion: node?.placement?.ringVersion ?? null,
      activeActors: node?.placement?.activeActors ?? null,
      handoffsPending: node?.placement?.handoffsPending ?? null,
    };
  });
  const memberIds = new Set(config.members.map((member) => member.nodeId));
  return {
    version: config.version,
    updatedAt: config.updatedAt,
    members,
    unassigned: live
      .filter((node) => !memberIds.has(node.nodeId))
      .map((node) => ({ nodeId: node.nodeId, address: node.address })),
    // Every live ingest node counts, members or not: a node just removed still hands its actors off.
    settled: live.every(
      (node) =>
        (node.placement?.ringVersion ?? 0) >= config.version && (node.placement?.handoffsPending ?? 0) === 0,
    ),
  };
}
