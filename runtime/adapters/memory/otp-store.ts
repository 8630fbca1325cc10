import type { OtpLogin, OtpRecord, OtpStore } from "../../ports/otp-store.js";

/** The OTP store in memory, for unit tests; same semantics as the DynamoDB adapter. */
export class MemoryOtpStore implements OtpStore {
  private readonly records = new Map<string, OtpRecord>();

  async getOtp(phoneHash: string): Promise<OtpRecord | undefined> {
    return this.records.get(phoneHash);
  }

  async putOtp(record: OtpRecord, now: number): Promise<boolean> {
    const stored = this.records.get(record.phoneHash);
    if (stored?.lockedUntil !== undefined && stored.lockedUntil >= now) return false;
    this.records.set(record.phoneHash, Object.freeze({ ...record }));
    return true;
  }

  async recordFailedAttempt(
    phoneHash: string,
    otpMac: string,
    maxAttempts: number,
  ): Promise<number | undefined> {
    const stored = this.records.get(phoneHash);
    if (stored?.otpMac !== otpMac || stored.status !== "pending" || stored.attemptCount >= maxAttempts) {
      return undefined;
    }
    const attemptCount = stored.attemptCount + 1;
    this.records.set(phoneHash, Object.freeze({ ...stored, attemptCount }));
    return attemptCount;
  }

  async lockOut(phoneHash: string, until: number): Promise<void> {
    const stored = this.records.get(phoneHash);
    if (stored !== undefined) this.records.set(phoneHash, Object.freeze({ ...stored, lockedUntil: until }));
  }

  async markVerified(phoneHash: string, otpMac: string, now: number, maxAttempts: number): Promise<boolean> {
    const stored = this.records.get(phoneHash);
    if (
      stored?.otpMac !== otpMac ||
      stored.status !== "pending" ||
      stored.expiresAt < now ||
      stored.attemptCount >= maxAttempts
    ) {
      return false;
    }
    this.records.set(phoneHash, Object.freeze({ ...stored, status: "verified" }));
    return true;
  }

  async recordLogin(phoneHash: string, otpMac: string, login: OtpLogin): Promise<void> {
    const stored = this.records.get(phoneHash);
    if (stored?.otpMac === otpMac && stored.status === "verified") {
      this.records.set(phoneHash, Object.freeze({ ...stored, login: { ...login } }));
    }
  }
}
