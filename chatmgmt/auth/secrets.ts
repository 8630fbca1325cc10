import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/**
 * The small cryptographic helpers of auth. Codes: 6 digits, uniform over 000000-999999 (`randomInt` uses
 * rejection sampling). Refresh tokens: base64url of 32 random bytes; only their SHA-256 is stored.
 */
export const newOtpCode = (): string => String(randomInt(0, 1_000_000)).padStart(6, "0");

/** HMAC-SHA256(pepper, code ‖ phone_hash ‖ expires_at) of spec §3.1, hex. */
export const otpMac = (pepper: string, code: string, phoneHash: string, expiresAt: number): string =>
  createHmac("sha256", pepper).update(`${code}|${phoneHash}|${expiresAt}`).digest("hex");

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

export const newRefreshToken = (): string => randomBytes(32).toString("base64url");

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
