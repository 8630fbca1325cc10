import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../runtime/clock.js";
import type { RingMember } from "../../runtime/placement/ring-config.js";
import type { RingStore } from "../../runtime/ports/ring-store.js";

export interface RingStoreFixture {
  readonly store: RingStore;
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

const member = (nodeId: string, weight = 100): RingMember => ({ nodeId, weight, state: "active" });

/** The RingStore port's contract: versioned compare-and-set of one configuration, run against every adapter. */
export function describeRingStoreContract(adapter: string, create: () => Promise<RingStoreFixture>): void {
  describe(`RingStore contract (${adapter})`, () => {
    let fixture: RingStoreFixture;
    beforeAll(async () => {
      fixture = await create();
    });
    afterAll(() => fixture.cleanup());

    it("reads version 0 with no members before anything was written", async () => {
      // Each test below writes on top of what the previous ones left: the store is shared on purpose.
      expect(await fixture.store.read()).toEqual({ version: 0, members: [], updatedAt: 0 });
    });

    it("writes version 1 only over version 0, and reads back exactly what it wrote", async () => {
      fixture.clock.advance(1_000);
      const written = await fixture.store.write(0, [member("ingest-a"), member("ingest-b", 200)]);
      expect(written).toEqual({
        version: 1,
        members: [member("ingest-a"), member("ingest-b", 200)],
        updatedAt: fixture.clock.now(),
      });
      expect(await fixture.store.read()).toEqual(written);
      expect(await fixture.store.write(0, [member("ingest-z")])).toBeUndefined();
    });

    it("refuses a write based on a stale version and keeps the newer configuration", async () => {
      const current = await fixture.store.read();
      const next = await fixture.store.write(current.version, [
        { ...member("ingest-a"), state: "draining" },
        member("ingest-b", 200),
      ]);
      expect(next?.version).toBe(current.version + 1);
      expect(await fixture.store.write(current.version, [member("ingest-stale")])).toBeUndefined();
      expect((await fixture.store.read()).members.map((m) => m.nodeId)).toEqual(["ingest-a", "ingest-b"]);
    });

    it("lets exactly one of several racing writers of the same version win", async () => {
      const current = await fixture.store.read();
      const results = await Promise.all(
        ["x", "y", "z", "w"].map((suffix) =>
          fixture.store.write(current.version, [member(`ingest-${suffix}`)]),
        ),
      );
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      expect(await fixture.store.read()).toEqual(winners[0]);
    });
  });
}
