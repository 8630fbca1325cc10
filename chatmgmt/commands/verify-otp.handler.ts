import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { AppError } from "../../runtime/errors.js";
import type { IdFactory, SessionId, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { OtpLogin, OtpStore } from "../../runtime/ports/otp-store.js";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { phoneHash, type UserRecord } from "../../runtime/ports/user-store.js";
import { AccessTokens } from "../auth/access-tokens.js";
import { RateLimiter, rateLimited } from "../auth/rate-limits.js";
import { otpMac, sameMac, sha256Hex } from "../auth/secrets.js";
import { refreshTokenFor, Sessions } from "../auth/sessions.js";
import type { AuthLimits } from "../context.js";
import {
  AUTH_LIMITS,
  CLOCK,
  CONFIG,
  IDS,
  LOGGER,
  OTP_PEPPER,
  OTP_STORE,
  SESSION_STORE,
  USER_STORE,
} from "../tokens.js";
import { type LoginResult, VerifyOtpCommand } from "./verify-otp.command.js";

const invalidOtp = (details: Record<string, unknown> = {}) =>
  new AppError("INVALID_OTP", "the code is wrong or expired", { details });

/**
 * Before anything, the per-phone verify limit (spec §3.4; the per-IP one ran in the guard). Then the check
 * order of spec §3.1: (1) strong read — missing, verified or expired → INVALID_OTP; (2) locked out or
 * out of attempts → 429; (3) MAC mismatch (constant time) → count the attempt (the last one locks the
 * phone out) → INVALID_OTP; (4) match → one conditional `pending → verified` (exactly one racing
 * verification wins), then user (D15: record, then phone sentinel) and session.
 */
@CommandHandler(VerifyOtpCommand)
export class VerifyOtpHandler implements ICommandHandler<VerifyOtpCommand, LoginResult> {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: IdFactory,
    @Inject(USER_STORE) private readonly userStore: UserStore,
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(OTP_STORE) private readonly otpStore: OtpStore,
    @Inject(OTP_PEPPER) private readonly otpPepper: string,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(AccessTokens) private readonly accessTokens: AccessTokens,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  async execute(command: VerifyOtpCommand): Promise<LoginResult> {
    const { limits, otpStore, config } = this;
    const hash = phoneHash(command.phoneNumber);
    // Spec §3.4 `otp_verify:phone:{phone_hash}`: every attempt counts, right or wrong, whatever state the
    // phone's code is in (pending, verified, expired or none), so no state is a free guessing oracle — a
    // verified code still answers retries of its login. The client IP's own verify limit was counted first
    // (OtpVerifyLimitGuard): an address past it burns no phone's attempts.
    await this.rateLimiter.enforce(
      `otp_verify:phone:${hash}`,
      config.otpVerifiesPerPhone,
      config.otpVerifyWindowS * 1000,
    );
    const now = this.clock.now();
    const record = await otpStore.getOtp(hash);
    if (record?.lockedUntil !== undefined && record.lockedUntil >= now) {
      throw rateLimited(limits.otpMaxAttempts, limits.otpLockoutMs, record.lockedUntil - now);
    }
    if (
      record?.status === "verified" &&
      record.expiresAt >= now &&
      record.login?.deviceId === command.deviceId
    ) {
      // A retry of a verification that succeeded (its response may have been lost): same session and
      // is_new_user, fresh tokens (spec §3.2). Still only with the right code.
      if (sameMac(otpMac(this.otpPepper, command.otp, hash, record.expiresAt), record.otpMac)) {
        return this.repeatLogin(record.login);
      }
    }
    if (record === undefined || record.status !== "pending" || record.expiresAt < now) throw invalidOtp();
    if (record.attemptCount >= limits.otpMaxAttempts) {
      throw rateLimited(limits.otpMaxAttempts, limits.otpLockoutMs, limits.otpLockoutMs);
    }
    const candidate = otpMac(this.otpPepper, command.otp, hash, record.expiresAt);
    if (!sameMac(candidate, record.otpMac)) {
      const attempts = await otpStore.recordFailedAttempt(hash, record.otpMac, limits.otpMaxAttempts);
      if (attempts !== undefined && attempts >= limits.otpMaxAttempts) {
        await otpStore.lockOut(hash, now + limits.otpLockoutMs);
        this.logger.warn({ phone_last4: command.phoneNumber.slice(-4) }, "auth.otp_lockout");
      }
      throw invalidOtp({
        attempts_remaining: Math.max(0, limits.otpMaxAttempts - (attempts ?? limits.otpMaxAttempts)),
      });
    }
    if (!(await otpStore.markVerified(hash, record.otpMac, now, limits.otpMaxAttempts))) throw invalidOtp();

    const { user, isNewUser } = await this.findOrCreateUser(command.phoneNumber, now);
    const { session, tokens } = await this.sessions.open(user.userId, command.deviceId);
    await otpStore.recordLogin(hash, record.otpMac, {
      deviceId: command.deviceId,
      sessionId: session.sessionId,
      userId: user.userId,
      isNewUser,
    });
    return { user, session, tokens, isNewUser };
  }

  /** Fresh tokens for the session an earlier verification of the same code opened on the same device. */
  private async repeatLogin(login: OtpLogin): Promise<LoginResult> {
    const session = await this.sessionStore.getSession(login.sessionId as SessionId);
    if (session === undefined || session.deviceId !== login.deviceId) throw invalidOtp();
    const refreshToken = refreshTokenFor(session.sessionId);
    const rotated = await this.sessionStore.rotateRefreshToken(session, sha256Hex(refreshToken));
    if (rotated === undefined) throw invalidOtp();
    const [user, access] = await Promise.all([
      this.loadUser(session.userId),
      this.accessTokens.mint(session.userId, session.sessionId),
    ]);
    return {
      user,
      session: rotated,
      tokens: {
        accessToken: access.token,
        refreshToken,
        expiresInS: access.expiresInS,
        accessTokenExpiresAt: access.expiresAt,
      },
      isNewUser: login.isNewUser,
    };
  }

  private async findOrCreateUser(
    phoneNumber: string,
    now: number,
  ): Promise<{ user: UserRecord; isNewUser: boolean }> {
    const { userStore } = this;
    const existing = await userStore.getUserIdByPhone(phoneNumber);
    if (existing !== undefined) return { user: await this.loadUser(existing), isNewUser: false };
    const user: UserRecord = {
      userId: this.ids.user(),
      phoneNumber,
      displayName: null,
      createdAt: now,
      updatedAt: now,
    };
    await userStore.createUser(user);
    // The record is reachable only once the sentinel names it; a lost race leaves it unreachable.
    const holder = await userStore.claimPhone(phoneNumber, user.userId);
    if (holder.claimed) return { user, isNewUser: true };
    return { user: await this.loadUser(holder.userId), isNewUser: false };
  }

  private async loadUser(userId: UserId): Promise<UserRecord> {
    const user = await this.userStore.getUser(userId);
    if (user === undefined) throw new AppError("SERVICE_UNAVAILABLE", "user record not readable yet");
    return user;
  }
}
