import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RateLimitStore } from "../../runtime/ports/rate-limit-store.js";
import type { StoreFixture } from "./user-store.contract.js";

/** The behaviour every RateLimitStore adapter must have: exact counts under concurrency, fixed windows. */
export function describeRateLimitStoreContract(
  name: string,
  make: () => Promise<StoreFixture<RateLimitStore>>,
): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    let fixture: StoreFixture<RateLimitStore>;

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture.cleanup());

    it("concurrent hits are each counted once; a new window starts from one", async () => {
      const key = `ip:${randomBytes(6).toString("hex")}`;
      const hits = await Promise.all(Array.from({ length: 8 }, () => fixture.store.hit(key, 60_000)));
      expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const resetAt = hits[0]?.resetAt ?? 0;
      expect(resetAt).toBeGreaterThan(fixture.clock.now());
      fixture.clock.advance(resetAt - fixture.clock.now());
      expect(await fixture.store.hit(key, 60_000)).toEqual({ count: 1, resetAt: resetAt + 60_000 });
    });
  });
}
