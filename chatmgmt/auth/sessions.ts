import { Inject, Injectable } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { IdFactory, SessionId, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { SessionRecord, SessionStore } from "../../runtime/ports/session-store.js";
import type { AuthLimits, CloseConnections } from "../context.js";
import { AUTH_LIMITS, CLOCK, CLOSE_CONNECTIONS, IDS, LOGGER, SESSION_STORE } from "../tokens.js";
import { type AccessClaims, AccessTokens } from "./access-tokens.js";
import { newRefreshToken, sha256Hex } from "./secrets.js";

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresInS: number;
  readonly accessTokenExpiresAt: number;
}

/**
 * A refresh token names its session (`<session_id>.<32 random bytes, base64url>`), so any token of a family,
 * current or rotated out, leads to the one session it belongs to; only its SHA-256 is stored.
 */
export function refreshTokenFor(sessionId: SessionId): string {
  return `${sessionId}.${newRefreshToken()}`;
}

export function sessionIdOfRefreshToken(token: string): SessionId | undefined {
  const [sessionId, secret, extra] = token.split(".");
  if (extra !== undefined || secret === undefined || !/^sess_[0-9A-Z]{26}$/.test(sessionId ?? ""))
    return undefined;
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return sessionId as SessionId;
}

/** The caller of an authenticated request: a valid token of a session that still exists. */
export interface Caller extends AccessClaims {
  readonly deviceId: string;
}

/** Only touch `last_active_at` this often per session: activity tracking must not cost a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

/** Sessions of spec §3.3: opened by a login, found by every authenticated call, revoked one by one. */
@Injectable()
export class Sessions {
  constructor(
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(AccessTokens) private readonly accessTokens: AccessTokens,
    @Inject(CLOSE_CONNECTIONS) private readonly closeConnections: CloseConnections,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: IdFactory,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Deletes a session (the whole refresh-token family) and tells every gateway (`session_revoked`): they close
   * its WebSockets and refuse its access tokens from now on (401 `token_revoked`). Telling is best effort: a
   * gateway that cannot be reached must not keep the session alive (its session check expires within seconds).
   */
  async revoke(session: SessionRecord, why: string): Promise<void> {
    await this.sessionStore.deleteSession(session.sessionId);
    this.logger.info({ session_id: session.sessionId, user_id: session.userId, why }, "session.revoked");
    try {
      await this.closeConnections({
        userId: session.userId,
        sessionId: session.sessionId,
        reason: "session_revoked",
      });
    } catch (error) {
      this.logger.warn(
        { err: error, session_id: session.sessionId },
        "closing the session's connections failed",
      );
    }
  }

  /**
   * Opens a session for a verified login: the user's session on the same device is replaced, and while the
   * user would exceed the session cap the oldest are evicted (spec §3.3). Each step is one idempotent write.
   */
  async open(userId: UserId, deviceId: string): Promise<{ session: SessionRecord; tokens: IssuedTokens }> {
    const existing = await this.sessionStore.listSessionsOfUser(userId);
    const others: SessionRecord[] = [];
    for (const session of existing) {
      if (session.deviceId === deviceId) await this.revoke(session, "replaced");
      else others.push(session);
    }
    while (others.length >= this.limits.maxSessionsPerUser) {
      const oldest = others.shift();
      if (oldest !== undefined) await this.revoke(oldest, "evicted");
    }
    const now = this.clock.now();
    const sessionId = this.ids.session();
    const refreshToken = refreshTokenFor(sessionId);
    const session: SessionRecord = {
      sessionId,
      userId,
      deviceId,
      refreshTokenHash: sha256Hex(refreshToken),
      previousTokenHashes: [],
      tokenFamily: this.ids.ulid(),
      tokenGeneration: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: now + this.limits.refreshTokenTtlMs,
    };
    if (!(await this.sessionStore.createSession(session))) {
      throw new AppError("INTERNAL_ERROR", "session id collision", { public: false });
    }
    const access = await this.accessTokens.mint(userId, sessionId);
    return {
      session,
      tokens: {
        accessToken: access.token,
        refreshToken,
        expiresInS: access.expiresInS,
        accessTokenExpiresAt: access.expiresAt,
      },
    };
  }

  /** The caller of an `authorization: Bearer <jwt>` header (REST and gRPC alike), or UNAUTHORIZED. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? "");
    if (match?.[1] === undefined) {
      throw new AppError("UNAUTHORIZED", "a bearer access token is required", {
        details: { reason: "missing_token" },
      });
    }
    const claims = await this.accessTokens.verify(match[1]);
    const session = await this.sessionStore.getSession(claims.sessionId);
    if (session === undefined || session.userId !== claims.userId) {
      throw new AppError("UNAUTHORIZED", "the session of this token was revoked", {
        details: { reason: "session_revoked" },
      });
    }
    const now = this.clock.now();
    if (now - session.lastActiveAt >= TOUCH_INTERVAL_MS)
      await this.sessionStore.touchSession(session.sessionId, now);
    return { ...claims, deviceId: session.deviceId };
  }
}
