import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdFactory } from "../../runtime/ids.js";
import type { SessionRecord, SessionStore } from "../../runtime/ports/session-store.js";
import type { StoreFixture } from "./user-store.contract.js";

/** The behaviour every SessionStore adapter must have: compare-and-set rotation, expiry ignored (D12). */
export function describeSessionStoreContract(
  name: string,
  make: () => Promise<StoreFixture<SessionStore>>,
): void {
  describe(`SessionStore contract: ${name}`, () => {
    let fixture: StoreFixture<SessionStore>;
    const ids = new IdFactory({ now: () => Date.now() });
    const session = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      sessionId: ids.session(),
      userId: ids.user(),
      deviceId: "device-1",
      refreshTokenHash: "h1",
      previousTokenHashes: [],
      tokenFamily: ids.ulid(),
      tokenGeneration: 1,
      createdAt: fixture.clock.now(),
      lastActiveAt: fixture.clock.now(),
      expiresAt: fixture.clock.now() + 60_000,
      ...overrides,
    });

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture.cleanup());

    it("creates a session once, reads it, and ignores it once expired", async () => {
      const record = session();
      expect(await fixture.store.createSession(record)).toBe(true);
      expect(await fixture.store.createSession(record)).toBe(false);
      expect(await fixture.store.getSession(record.sessionId)).toEqual(record);
      fixture.clock.advance(60_001);
      expect(await fixture.store.getSession(record.sessionId)).toBeUndefined();
      expect(await fixture.store.listSessionsOfUser(record.userId)).toEqual([]);
    });

    it("racing rotations of one refresh token have exactly one winner", async () => {
      const record = session();
      await fixture.store.createSession(record);
      const results = await Promise.all(
        ["n1", "n2", "n3"].map((hash) => fixture.store.rotateRefreshToken(record, hash)),
      );
      const winners = results.filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ previousTokenHashes: ["h1"], tokenGeneration: 2 });
      const stored = await fixture.store.getSession(record.sessionId);
      expect(stored?.refreshTokenHash).toBe(winners[0]?.refreshTokenHash);
      // Rotating from the stale record fails: its hash is no longer current.
      expect(await fixture.store.rotateRefreshToken(record, "n4")).toBeUndefined();
    });

    it("lists a user's sessions oldest first; delete returns the deleted session once", async () => {
      const userId = ids.user();
      const first = session({ userId });
      fixture.clock.advance(10);
      const second = session({ userId, deviceId: "device-2" });
      await fixture.store.createSession(second);
      await fixture.store.createSession(first);
      const listed = await fixture.store.listSessionsOfUser(userId);
      expect(listed.map((s) => s.sessionId)).toEqual([first.sessionId, second.sessionId]);
      await fixture.store.touchSession(first.sessionId, first.lastActiveAt + 500);
      expect((await fixture.store.getSession(first.sessionId))?.lastActiveAt).toBe(first.lastActiveAt + 500);
      expect(await fixture.store.deleteSession(first.sessionId)).toMatchObject({
        sessionId: first.sessionId,
      });
      expect(await fixture.store.deleteSession(first.sessionId)).toBeUndefined();
      expect(await fixture.store.getSession(first.sessionId)).toBeUndefined();
    });
  });
}
