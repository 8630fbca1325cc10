import { describe, expect, it } from "vitest";
import { PlacementRing } from "./hash-ring.js";
import type { RingMember } from "./ring-config.js";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Deterministic ULID-shaped chat ids (mulberry32), so the figures below are the same on every run. */
function chatIds(count: number, seed = 42): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    let id = "chat_";
    for (let i = 0; i < 26; i++) id += CROCKFORD[Math.floor(next() * 32)];
    return id;
  });
}

const nodes = (count: number, weight = 100): RingMember[] =>
  Array.from({ length: count }, (_, i) => ({ nodeId: `ingest-${i + 1}`, weight, state: "active" as const }));

function shares(ring: PlacementRing, keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const owner = ring.ownerOf(key) ?? "none";
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return counts;
}

describe("the placement ring", () => {
  const chats = chatIds(10_000);

  it("spreads 10,000 chats over 5 equal nodes within 1.15 of the mean", () => {
    const counts = shares(new PlacementRing(nodes(5)), chats);
    expect(counts.size).toBe(5);
    const max = Math.max(...counts.values());
    const ratio = max / (chats.length / 5);
    console.log(`max/mean chats per node over 5 nodes: ${ratio.toFixed(3)}`);
    expect(ratio).toBeLessThanOrEqual(1.15);
  });

  it("moves at most 1.25 × 1/6 of the chats when a sixth node joins, all of them to the new node", () => {
    const before = new PlacementRing(nodes(5));
    const after = new PlacementRing(nodes(6));
    let moved = 0;
    for (const chat of chats) {
      const from = before.ownerOf(chat);
      const to = after.ownerOf(chat);
      if (from === to) continue;
      moved++;
      expect(to).toBe("ingest-6");
    }
    const share = moved / chats.length;
    console.log(`moved ${moved} of ${chats.length} chats (${(share * 6).toFixed(3)} × the ideal 1/6)`);
    expect(share).toBeLessThanOrEqual(1.25 / 6);
    expect(share).toBeGreaterThan(0.5 / 6);
  });

  it("gives a node of double weight about double the chats", () => {
    const members = [...nodes(3), { nodeId: "ingest-big", weight: 200, state: "active" as const }];
    const counts = shares(new PlacementRing(members), chats);
    const big = counts.get("ingest-big") ?? 0;
    const small = (chats.length - big) / 3;
    expect(big / small).toBeGreaterThan(1.7);
    expect(big / small).toBeLessThan(2.3);
  });

  it("computes the same owners whatever order the members are listed in", () => {
    const a = new PlacementRing(nodes(4));
    const b = new PlacementRing(nodes(4).reverse());
    for (const chat of chats.slice(0, 500)) expect(b.ownerOf(chat)).toBe(a.ownerOf(chat));
  });

  it("has no owner without members, and one owner for everything with one member", () => {
    expect(new PlacementRing([]).ownerOf("chat_X")).toBeUndefined();
    const one = new PlacementRing(nodes(1));
    expect(new Set(chats.slice(0, 100).map((chat) => one.ownerOf(chat)))).toEqual(new Set(["ingest-1"]));
  });
});
