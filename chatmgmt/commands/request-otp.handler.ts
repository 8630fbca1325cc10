import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { AppError, isAppError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/logger.js";
import type { OtpStore } from "../../runtime/ports/otp-store.js";
import type { DevOtpInbox, SmsSender } from "../../runtime/ports/sms-sender.js";
import { phoneHash } from "../../runtime/ports/user-store.js";
import { RateLimiter, rateLimited } from "../auth/rate-limits.js";
import { newOtpCode, otpMac } from "../auth/secrets.js";
import type { AuthLimits } from "../context.js";
import { AUTH_LIMITS, CLOCK, LOGGER, OTP_PEPPER, OTP_STORE, SMS_SENDER } from "../tokens.js";
import { RequestOtpCommand, type RequestOtpResult } from "./request-otp.command.js";

/** Clients may ask again after this long (spec §2 `retry_after_seconds: 60`). */
const RESEND_AFTER_S = 60;

/**
 * Sends a code, then stores it. The SMS goes first so that a failed delivery leaves nothing behind: no stored
 * code the user never received, and a pending earlier code (already delivered) stays valid. The request still
 * counts against the per-phone limit whatever the provider answered, because an attempt may have cost an SMS
 * (a timed-out one may even arrive) and the limit exists to bound exactly that. A failure answers with the
 * sender's code (429 with Retry-After, 400 on `phone_number`, 503) and is logged as
 * `auth.otp_delivery_failed`, never retried (spec §3.1).
 */
@CommandHandler(RequestOtpCommand)
export class RequestOtpHandler implements ICommandHandler<RequestOtpCommand, RequestOtpResult> {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(OTP_STORE) private readonly otpStore: OtpStore,
    @Inject(SMS_SENDER) private readonly smsSender: SmsSender & Partial<DevOtpInbox>,
    @Inject(OTP_PEPPER) private readonly otpPepper: string,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
  ) {}

  async execute(command: RequestOtpCommand): Promise<RequestOtpResult> {
    const { limits } = this;
    const hash = phoneHash(command.phoneNumber);
    await this.rateLimiter.enforce(
      `otp_req:phone:${hash}`,
      limits.otpRequestsPerPhone,
      limits.otpRequestWindowMs,
    );
    const now = this.clock.now();
    const previous = await this.otpStore.getOtp(hash);
    // A locked-out phone gets no SMS: checked before sending (putOtp checks again, atomically).
    if (previous?.lockedUntil !== undefined && previous.lockedUntil >= now) {
      throw rateLimited(limits.otpMaxAttempts, limits.otpLockoutMs, previous.lockedUntil - now);
    }
    // Wrong guesses against a pending code carry over to its replacement: asking for a new code must not
    // buy an attacker a fresh set of attempts.
    const carriedAttempts =
      previous !== undefined && previous.status === "pending" && previous.expiresAt >= now
        ? previous.attemptCount
        : 0;
    const code = newOtpCode();
    const expiresAt = now + limits.otpTtlMs;
    await this.deliver(command.phoneNumber, code);
    const stored = await this.otpStore.putOtp(
      {
        phoneHash: hash,
        otpMac: otpMac(this.otpPepper, code, hash, expiresAt),
        createdAt: now,
        expiresAt,
        attemptCount: carriedAttempts,
        status: "pending",
      },
      now,
    );
    if (!stored) {
      const lockedUntil = (await this.otpStore.getOtp(hash))?.lockedUntil ?? now + limits.otpLockoutMs;
      throw rateLimited(limits.otpMaxAttempts, limits.otpLockoutMs, lockedUntil - now);
    }
    return { phoneNumber: command.phoneNumber, expiresAt, retryAfterS: RESEND_AFTER_S };
  }

  private async deliver(phoneNumber: string, code: string): Promise<void> {
    try {
      await this.smsSender.sendOtp(phoneNumber, code);
    } catch (error) {
      const failure = this.asClientError(error);
      this.logger.warn(
        { err: failure, reason: failure.code, phone_last4: phoneNumber.slice(-4) },
        "auth.otp_delivery_failed",
      );
      throw failure;
    }
  }

  /** The sender's failure as the REST answer; anything outside the port's contract is the provider down. */
  private asClientError(error: unknown): AppError {
    if (!isAppError(error)) {
      return new AppError("SERVICE_UNAVAILABLE", "one-time codes cannot be sent right now; try again later", {
        cause: error,
      });
    }
    if (error.code === "RATE_LIMITED") {
      // Every 429 carries Retry-After and the limit's details (spec §1): the provider's wait, on the limit
      // the requester knows.
      const retryAfterS = error.details?.retry_after_seconds;
      const limited = rateLimited(
        this.limits.otpRequestsPerPhone,
        this.limits.otpRequestWindowMs,
        (typeof retryAfterS === "number" ? retryAfterS : RESEND_AFTER_S) * 1000,
      );
      return new AppError("RATE_LIMITED", error.message, {
        details: { ...limited.details, reason: error.details?.reason ?? "sms_provider_throttled" },
        cause: error.cause,
      });
    }
    if (error.code === "VALIDATION_ERROR" || error.code === "SERVICE_UNAVAILABLE") return error;
    return new AppError("SERVICE_UNAVAILABLE", "one-time codes cannot be sent right now; try again later", {
      cause: error,
    });
  }
}
