import HashRing from "hashring";
import type { RingMember } from "./ring-config.js";

/**
 * Consistent hashing of chat ids onto ring members (`hashring`: ketama-compatible md5 continuum, weights).
 * 160 hashes per node (×4 replicas = 640 points at equal weight) keeps 10,000 chats over 5 nodes within
 * about 1.05 of the mean per node and moves about 1/6 of them when a sixth node joins, against 40 by
 * default (see hash-ring.test.ts for the figures). Every process computes the same owner from the same
 * members, whatever order they are given in.
 */
const VNODES_PER_NODE = 160;

export class PlacementRing {
  private readonly ring: HashRing | undefined;
  /** The single member when there is only one: no hashing needed. */
  private readonly only: string | undefined;

  constructor(readonly members: readonly RingMember[]) {
    const sorted = [...members].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    if (sorted.length === 1) this.only = sorted[0]?.nodeId;
    if (sorted.length > 1) {
      const servers = Object.fromEntries(sorted.map((m) => [m.nodeId, { weight: m.weight }]));
      this.ring = new HashRing(servers, "md5", { "vnode count": VNODES_PER_NODE, "max cache size": 10_000 });
    }
  }

  /** The node that owns `key`, or undefined when the ring has no member. */
  ownerOf(key: string): string | undefined {
    return this.only ?? this.ring?.get(key);
  }
}
