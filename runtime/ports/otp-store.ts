/**
 * One-time passwords (table `otp_requests`), one record per phone (keyed by the phone's SHA-256). Only an
 * HMAC of the code is stored (D11). A record carries its attempt count and, after too many wrong codes, a
 * lockout that a new request cannot lift. Every change is one conditional write.
 */
export const OTP_STATUSES = ["pending", "verified"] as const;
export type OtpStatus = (typeof OTP_STATUSES)[number];

export interface OtpRecord {
  readonly phoneHash: string;
  /** HMAC-SHA256(pepper, code ‖ phone_hash ‖ expires_at), hex. */
  readonly otpMac: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly attemptCount: number;
  readonly status: OtpStatus;
  /** Epoch ms until which the phone may neither request nor verify a code. */
  readonly lockedUntil?: number;
  /** The login this code produced, so a retry of the same verification gets the same session (spec §3.2). */
  readonly login?: OtpLogin;
}

export interface OtpLogin {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly isNewUser: boolean;
}

export interface OtpStore {
  /** Strongly consistent; returns the record even when expired (its lockout may still be in force). */
  getOtp(phoneHash: string): Promise<OtpRecord | undefined>;

  /**
   * Writes a new pending code, replacing any previous record, unless the phone is locked out at `now`.
   * False when it is locked out.
   */
  putOtp(record: OtpRecord, now: number): Promise<boolean>;

  /**
   * Counts a wrong code against the record holding `otpMac` while it is pending and below `maxAttempts`;
   * returns the new count, or undefined when the record changed or was already exhausted.
   */
  recordFailedAttempt(phoneHash: string, otpMac: string, maxAttempts: number): Promise<number | undefined>;

  /** Sets the lockout of a phone's record (an existing one). */
  lockOut(phoneHash: string, until: number): Promise<void>;

  /**
   * `pending` -> `verified` only if the record still holds `otpMac`, is unexpired at `now` and below
   * `maxAttempts`: exactly one of racing verifications of one code wins.
   */
  markVerified(phoneHash: string, otpMac: string, now: number, maxAttempts: number): Promise<boolean>;

  /** Records the login of a verified code (only on the record still holding `otpMac`). */
  recordLogin(phoneHash: string, otpMac: string, login: OtpLogin): Promise<void>;
}
