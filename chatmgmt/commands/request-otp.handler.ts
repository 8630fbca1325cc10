import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { phoneHash } from "../../runtime/ports/user-store.js";
import { enforceLimit, rateLimited } from "../auth/rate-limits.js";
import { newOtpCode, otpMac } from "../auth/secrets.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { RequestOtpCommand, type RequestOtpResult } from "./request-otp.command.js";

/** Clients may ask again after this long (spec §2 `retry_after_seconds: 60`). */
const RESEND_AFTER_S = 60;

@CommandHandler(RequestOtpCommand)
export class RequestOtpHandler implements ICommandHandler<RequestOtpCommand, RequestOtpResult> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: RequestOtpCommand): Promise<RequestOtpResult> {
    const { limits } = this.ctx;
    const hash = phoneHash(command.phoneNumber);
    await enforceLimit(
      this.ctx,
      `otp_req:phone:${hash}`,
      limits.otpRequestsPerPhone,
      limits.otpRequestWindowMs,
    );
    const now = this.ctx.clock.now();
    // Wrong guesses against a pending code carry over to its replacement: asking for a new code must not
    // buy an attacker a fresh set of attempts.
    const previous = await this.ctx.otpStore.getOtp(hash);
    const carriedAttempts =
      previous !== undefined && previous.status === "pending" && previous.expiresAt >= now
        ? previous.attemptCount
        : 0;
    const code = newOtpCode();
    const expiresAt = now + limits.otpTtlMs;
    const stored = await this.ctx.otpStore.putOtp(
      {
        phoneHash: hash,
        otpMac: otpMac(this.ctx.otpPepper, code, hash, expiresAt),
        createdAt: now,
        expiresAt,
        attemptCount: carriedAttempts,
        status: "pending",
      },
      now,
    );
    if (!stored) {
      const lockedUntil = (await this.ctx.otpStore.getOtp(hash))?.lockedUntil ?? now + limits.otpLockoutMs;
      throw rateLimited(limits.otpMaxAttempts, limits.otpLockoutMs, lockedUntil - now);
    }
    // Fire and forget (spec §3.1): delivery failures are logged, never retried, never shown.
    void this.ctx.smsSender.sendOtp(command.phoneNumber, code).catch((error: unknown) => {
      this.ctx.logger.warn(
        { err: error, phone_last4: command.phoneNumber.slice(-4) },
        "auth.otp_delivery_failed",
      );
    });
    return { phoneNumber: command.phoneNumber, expiresAt, retryAfterS: RESEND_AFTER_S };
  }
}
