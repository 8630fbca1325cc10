import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtpRecord, OtpStore } from "../../runtime/ports/otp-store.js";
import type { StoreFixture } from "./user-store.contract.js";

/** The behaviour every OtpStore adapter must have: bounded attempts, lockout, one verification per code. */
export function describeOtpStoreContract(name: string, make: () => Promise<StoreFixture<OtpStore>>): void {
  describe(`OtpStore contract: ${name}`, () => {
    let fixture: StoreFixture<OtpStore>;
    const record = (overrides: Partial<OtpRecord> = {}): OtpRecord => ({
      phoneHash: randomBytes(16).toString("hex"),
      otpMac: "mac-1",
      createdAt: fixture.clock.now(),
      expiresAt: fixture.clock.now() + 300_000,
      attemptCount: 0,
      status: "pending",
      ...overrides,
    });

    beforeAll(async () => {
      fixture = await make();
    });
    afterAll(async () => fixture.cleanup());

    it("counts failed attempts up to the maximum and no further", async () => {
      const otp = record();
      expect(await fixture.store.putOtp(otp, fixture.clock.now())).toBe(true);
      const counts = [];
      for (let i = 0; i < 6; i++)
        counts.push(await fixture.store.recordFailedAttempt(otp.phoneHash, "mac-1", 5));
      expect(counts).toEqual([1, 2, 3, 4, 5, undefined]);
      expect(await fixture.store.markVerified(otp.phoneHash, "mac-1", fixture.clock.now(), 5)).toBe(false);
    });

    it("racing verifications of one code have exactly one winner; expired or replaced codes never verify", async () => {
      const otp = record();
      await fixture.store.putOtp(otp, fixture.clock.now());
      const results = await Promise.all(
        [1, 2, 3].map(() => fixture.store.markVerified(otp.phoneHash, "mac-1", fixture.clock.now(), 5)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await fixture.store.getOtp(otp.phoneHash))?.status).toBe("verified");

      const expiring = record();
      await fixture.store.putOtp(expiring, fixture.clock.now());
      expect(await fixture.store.markVerified(expiring.phoneHash, "mac-1", expiring.expiresAt + 1, 5)).toBe(
        false,
      );
      await fixture.store.putOtp({ ...expiring, otpMac: "mac-2" }, fixture.clock.now());
      expect(await fixture.store.markVerified(expiring.phoneHash, "mac-1", fixture.clock.now(), 5)).toBe(
        false,
      );
      expect(await fixture.store.markVerified(expiring.phoneHash, "mac-2", fixture.clock.now(), 5)).toBe(
        true,
      );
    });

    it("records the login of a verified code only", async () => {
      const otp = record();
      await fixture.store.putOtp(otp, fixture.clock.now());
      const login = { deviceId: "d1", sessionId: "sess_1", userId: "user_1", isNewUser: true };
      await fixture.store.recordLogin(otp.phoneHash, "mac-1", login);
      expect((await fixture.store.getOtp(otp.phoneHash))?.login).toBeUndefined();
      await fixture.store.markVerified(otp.phoneHash, "mac-1", fixture.clock.now(), 5);
      await fixture.store.recordLogin(otp.phoneHash, "mac-other", login);
      expect((await fixture.store.getOtp(otp.phoneHash))?.login).toBeUndefined();
      await fixture.store.recordLogin(otp.phoneHash, "mac-1", login);
      expect((await fixture.store.getOtp(otp.phoneHash))?.login).toEqual(login);
    });

    it("a lockout refuses new codes until it ends", async () => {
      const otp = record();
      await fixture.store.putOtp(otp, fixture.clock.now());
      const until = fixture.clock.now() + 900_000;
      await fixture.store.lockOut(otp.phoneHash, until);
      expect(await fixture.store.putOtp(record({ phoneHash: otp.phoneHash }), until - 1)).toBe(false);
      expect((await fixture.store.getOtp(otp.phoneHash))?.lockedUntil).toBe(until);
      expect(await fixture.store.putOtp(record({ phoneHash: otp.phoneHash }), until + 1)).toBe(true);
    });
  });
}
