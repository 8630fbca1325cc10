import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../runtime/clock.js";
import { IdFactory } from "../../runtime/ids.js";
import type { UserRecord, UserStore } from "../../runtime/ports/user-store.js";

export interface StoreFixture<S> {
  readonly store: S;
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

let phoneCounter = 0;
/** A phone number no other test of the run uses. */
export const uniquePhone = (): string =>
  `+1555${String(process.pid % 1000).padStart(3, "0")}${String(++phoneCounter).padStart(4, "0")}`;

/** The behaviour every UserStore adapter must have (D15: one phone, one user). */
export function describeUserStoreContract(name: string, make: () => Promise<StoreFixture<UserStore>>): void {
  describe(`UserStore contract: ${name}`, () => {
    let fixture: StoreFixture<UserStore>;
    const ids = new IdFactory({ now: () => Date.now() });
    const user = (phoneNumber = uniquePhone()): UserRecord => ({
      userId: ids.user(),
      phoneNumber,
      displayName: null,
      createdAt: fixture.clock.now(),
      updatedAt: fixture.clock.now(),
    });

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture.cleanup());

    it("creates a user once and reads it back", async () => {
      const record = user();
      expect(await fixture.store.createUser(record)).toBe(true);
      expect(await fixture.store.createUser({ ...record, displayName: "x" })).toBe(false);
      expect(await fixture.store.getUser(record.userId)).toEqual(record);
      expect(await fixture.store.getUser(ids.user())).toBeUndefined();
    });

    it("racing claims of one phone number leave exactly one holder", async () => {
      const phone = uniquePhone();
      const contenders = [user(phone), user(phone), user(phone)];
      const results = await Promise.all(contenders.map((c) => fixture.store.claimPhone(phone, c.userId)));
      expect(results.filter((result) => result.claimed)).toHaveLength(1);
      const holder = results.find((result) => result.claimed)?.userId;
      expect(new Set(results.map((result) => result.userId))).toEqual(new Set([holder]));
      expect(await fixture.store.getUserIdByPhone(phone)).toBe(holder);
    });

    it("looks up many phone numbers at once; unknown numbers are absent", async () => {
      const [a, b] = [user(), user()];
      await fixture.store.claimPhone(a.phoneNumber, a.userId);
      await fixture.store.claimPhone(b.phoneNumber, b.userId);
      const unknown = uniquePhone();
      const found = await fixture.store.getUserIdsByPhones([a.phoneNumber, b.phoneNumber, unknown]);
      expect(found).toEqual(
        new Map([
          [a.phoneNumber, a.userId],
          [b.phoneNumber, b.userId],
        ]),
      );
    });

    it("sets a display name and stamps updatedAt; a missing user stays missing", async () => {
      const record = user();
      await fixture.store.createUser(record);
      fixture.clock.advance(1000);
      const updated = await fixture.store.setDisplayName(record.userId, "Ada");
      expect(updated).toEqual({ ...record, displayName: "Ada", updatedAt: record.updatedAt + 1000 });
      expect(await fixture.store.setDisplayName(ids.user(), "Nobody")).toBeUndefined();
      const [other] = [user()];
      await fixture.store.createUser(other);
      const many = await fixture.store.getUsers([record.userId, other.userId, ids.user()]);
      expect(many.map((u) => u.userId).sort()).toEqual([record.userId, other.userId].sort());
    });
  });
}
