import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/clock.js";
import { IdFactory } from "../../runtime/ids.js";
import type { ActivationMarker, ActivationStore } from "../../runtime/ports/activation-store.js";

export interface ActivationStoreFixture {
  readonly store: ActivationStore;
  cleanup(): Promise<void>;
}

/** The ActivationStore port's contract, run against every adapter. */
export function describeActivationStoreContract(
  adapter: string,
  create: () => Promise<ActivationStoreFixture>,
): void {
  describe(`ActivationStore contract (${adapter})`, () => {
    let fixture: ActivationStoreFixture;
    const ids = new IdFactory(new ManualClock());
    const marker = (nodeId: string, incarnation = "i1"): ActivationMarker => ({
      chatId: ids.chat(),
      nodeId,
      incarnation,
      activatedAt: 1_000,
    });
    const all = async (limit: number) => {
      const seen: ActivationMarker[] = [];
      let after: string | undefined;
      for (let page = 0; page < 100; page++) {
        const result = await fixture.store.scan(after === undefined ? { limit } : { limit, after });
        seen.push(...result.items);
        if (result.next === undefined) return seen;
        after = result.next;
      }
      throw new Error("scan did not end");
    };

    beforeAll(async () => {
      fixture = await create();
    });
    afterAll(() => fixture.cleanup());

    it("a held marker is listed; releasing it as its holder removes it", async () => {
      const held = marker("node-a");
      await fixture.store.hold(held);
      expect(await all(100)).toContainEqual(held);
      expect(await fixture.store.release(held.chatId, { nodeId: "node-a", incarnation: "i1" })).toBe(true);
      expect((await all(100)).map((m) => m.chatId)).not.toContain(held.chatId);
    });

    it("a second holder of the same chat adds a marker of its own and never takes the first one's", async () => {
      const first = marker("node-a");
      await fixture.store.hold(first);
      const second = { ...first, nodeId: "node-b", incarnation: "i9", activatedAt: 2_000 };
      await fixture.store.hold(second);
      const ofChat = (await all(100)).filter((m) => m.chatId === first.chatId);
      expect(ofChat).toHaveLength(2);
      expect(ofChat).toContainEqual(first);
      expect(ofChat).toContainEqual(second);
      // The same node id in another incarnation (a restarted process) is another holder too.
      expect(await fixture.store.release(first.chatId, { nodeId: "node-b", incarnation: "i1" })).toBe(false);
      expect(await fixture.store.release(first.chatId, { nodeId: "node-a", incarnation: "i1" })).toBe(true);
      expect((await all(100)).filter((m) => m.chatId === first.chatId)).toEqual([second]);
      expect(await fixture.store.release(first.chatId, { nodeId: "node-b", incarnation: "i9" })).toBe(true);
    });

    it("a holder's refresh replaces its own marker", async () => {
      const held = marker("node-a");
      await fixture.store.hold(held);
      const refreshed = { ...held, activatedAt: 5_000 };
      await fixture.store.hold(refreshed);
      expect((await all(100)).filter((m) => m.chatId === held.chatId)).toEqual([refreshed]);
    });

    it("evicting removes another holder's marker only while it is exactly as read", async () => {
      const held = marker("node-a");
      await fixture.store.hold(held);
      const refreshed = { ...held, activatedAt: 7_000 };
      await fixture.store.hold(refreshed);
      // Read before the refresh: the holder is still writing, so its marker stays.
      expect(await fixture.store.evict(held)).toBe(false);
      expect(await all(100)).toContainEqual(refreshed);
      expect(await fixture.store.evict(refreshed)).toBe(true);
      expect((await all(100)).map((m) => m.chatId)).not.toContain(held.chatId);
      expect(await fixture.store.evict(refreshed)).toBe(false);
    });

    it("releasing a marker nobody holds answers false", async () => {
      expect(await fixture.store.release(ids.chat(), { nodeId: "node-a", incarnation: "i1" })).toBe(false);
    });

    it("pages through every marker exactly once", async () => {
      const markers = Array.from({ length: 23 }, (_, i) => marker(`node-${i % 3}`));
      await Promise.all(markers.map((m) => fixture.store.hold(m)));
      const seen = await all(5);
      const ids = seen.map((m) => m.chatId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const m of markers) expect(seen).toContainEqual(m);
    });
  });
}
