import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/logger.js";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import { AccessTokens } from "../auth/access-tokens.js";
import { RateLimiter } from "../auth/rate-limits.js";
import { newRefreshToken, sha256Hex } from "../auth/secrets.js";
import { type IssuedTokens, Sessions, sessionIdOfRefreshToken } from "../auth/sessions.js";
import { LOGGER, SESSION_STORE } from "../tokens.js";
import { RefreshTokensCommand } from "./refresh-tokens.command.js";

const invalid = () => new AppError("INVALID_REFRESH_TOKEN", "the refresh token is not valid");

@CommandHandler(RefreshTokensCommand)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokensCommand, IssuedTokens> {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(AccessTokens) private readonly accessTokens: AccessTokens,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  async execute(command: RefreshTokensCommand): Promise<IssuedTokens> {
    const sessionId = sessionIdOfRefreshToken(command.refreshToken);
    if (sessionId === undefined) throw invalid();
    const session = await this.sessionStore.getSession(sessionId);
    if (session === undefined) throw invalid();
    await this.rateLimiter.enforce(`auth_refresh:user:${session.userId}`, 30, 60_000);
    const presented = sha256Hex(command.refreshToken);
    if (presented !== session.refreshTokenHash && session.previousTokenHashes.includes(presented)) {
      // A rotated-out token came back: someone holds a copy. Revoke the whole family (spec §3.3 (4)) before
      // any other check, whatever X-Device-ID or access token came with it: a thief replaying a stolen token
      // need not know the device, and a refusal that left the family alive would tell them to try again.
      this.logger.warn(
        { session_id: session.sessionId, user_id: session.userId },
        "auth.refresh_token_reuse",
      );
      await this.sessions.revoke(session, "refresh_token_reuse");
      throw invalid();
    }
    if (command.accessToken !== undefined) {
      const claims = await this.accessTokens.verify(command.accessToken, { allowExpired: true });
      if (claims.sessionId !== sessionId) throw invalid();
    }
    if (session.deviceId !== command.deviceId) {
      throw new AppError("DEVICE_MISMATCH", "this refresh token belongs to another device");
    }
    if (presented !== session.refreshTokenHash) throw invalid();
    // Mint first, then compare-and-set: of racing refreshes exactly one returns tokens.
    const access = await this.accessTokens.mint(session.userId, session.sessionId);
    const refreshToken = `${session.sessionId}.${newRefreshToken()}`;
    const rotated = await this.sessionStore.rotateRefreshToken(session, sha256Hex(refreshToken));
    if (rotated === undefined) throw invalid();
    return {
      accessToken: access.token,
      refreshToken,
      expiresInS: access.expiresInS,
      accessTokenExpiresAt: access.expiresAt,
    };
  }
}
