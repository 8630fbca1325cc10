import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  RequestIdempotencyRecord,
  RequestIdempotencyStore,
} from "../../runtime/ports/request-idempotency-store.js";
import type { StoreFixture } from "./user-store.contract.js";

/** The behaviour every RequestIdempotencyStore adapter must have: one claimant per key while in force. */
export function describeRequestIdempotencyStoreContract(
  name: string,
  make: () => Promise<StoreFixture<RequestIdempotencyStore>>,
): void {
  describe(`RequestIdempotencyStore contract: ${name}`, () => {
    let fixture: StoreFixture<RequestIdempotencyStore>;
    const record = (overrides: Partial<RequestIdempotencyRecord> = {}): RequestIdempotencyRecord => ({
      scopeKey: `user#POST /chats#${randomBytes(8).toString("hex")}`,
      requestHash: "hash-1",
      state: "pending",
      resourceIds: { chat_id: "chat_1" },
      createdAt: fixture.clock.now(),
      expiresAt: fixture.clock.now() + 86_400_000,
      ...overrides,
    });

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture.cleanup());

    it("racing claims of one key have one winner; the others get the winner's record", async () => {
      const scopeKey = record().scopeKey;
      const results = await Promise.all(
        ["a", "b", "c"].map((id) => fixture.store.claim(record({ scopeKey, resourceIds: { chat_id: id } }))),
      );
      expect(results.filter((result) => result === undefined)).toHaveLength(1);
      const holders = new Set(
        results.flatMap((result) => (result === undefined ? [] : [result.resourceIds.chat_id])),
      );
      expect(holders.size).toBe(1);
    });

    it("complete records the status; an expired record may be claimed again", async () => {
      const first = record();
      expect(await fixture.store.claim(first)).toBeUndefined();
      await fixture.store.complete(first.scopeKey, 201);
      expect(await fixture.store.claim(record({ scopeKey: first.scopeKey }))).toEqual({
        ...first,
        state: "done",
        responseStatus: 201,
      });
      fixture.clock.advance(86_400_001);
      expect(
        await fixture.store.claim(record({ scopeKey: first.scopeKey, requestHash: "other" })),
      ).toBeUndefined();
    });
  });
}
