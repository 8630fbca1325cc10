import { createLocalJWKSet, decodeJwt, errors, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { IdFactory, SessionId, UserId } from "../../runtime/ids.js";
import { isUserId } from "../../runtime/ids.js";
import { jwksOf, type SigningKey } from "./signing-keys.js";

/** Claims of spec §3.3. */
const TOKEN_ISSUER = "messaging-platform";
const TOKEN_AUDIENCE = "messaging-api";
const TOKEN_SCOPE = "messaging";
/** Tolerated clock skew for `iat` between chat-management nodes. */
const IAT_SKEW_MS = 5_000;

export interface AccessClaims {
  readonly userId: UserId;
  readonly sessionId: SessionId;
  readonly jti: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface MintedAccessToken {
  readonly token: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly expiresInS: number;
}

const unauthorized = (reason: string, cause?: unknown): AppError =>
  new AppError("UNAUTHORIZED", reason === "token_expired" ? "access token expired" : "invalid access token", {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });

/** Mints and verifies RS256 access JWTs; time comes from the injected clock (D14). */
export class AccessTokens {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    private readonly key: SigningKey,
    private readonly clock: Pick<Clock, "now">,
    private readonly ids: IdFactory,
    private readonly ttlS: number,
  ) {
    this.keySet = createLocalJWKSet(jwksOf(key));
  }

  async mint(userId: UserId, sessionId: SessionId): Promise<MintedAccessToken> {
    const iat = Math.floor(this.clock.now() / 1000);
    const exp = iat + this.ttlS;
    const token = await new SignJWT({ sid: sessionId, scope: TOKEN_SCOPE })
      .setProtectedHeader({ alg: "RS256", kid: this.key.kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(this.ids.ulid())
      .sign(this.key.privateKey);
    return { token, expiresAt: exp * 1000, expiresInS: this.ttlS };
  }

  /**
   * Verifies signature, `kid`, `iss`, `aud`, `iat <= now`, `nbf` and `exp` (unless `allowExpired`, used by
   * refresh, which accepts an expired token of its own session). Any failure is UNAUTHORIZED with
   * `details.reason` (`token_expired` or `invalid_token`).
   */
  async verify(token: string, options: { readonly allowExpired?: boolean } = {}): Promise<AccessClaims> {
    const now = this.clock.now();
    let at = new Date(now);
    if (options.allowExpired === true) {
      let iat: number | undefined;
      try {
        iat = decodeJwt(token).iat;
      } catch (error) {
        throw unauthorized("invalid_token", error);
      }
      if (typeof iat !== "number") throw unauthorized("invalid_token");
      at = new Date(Math.min(now, iat * 1000));
    }
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: ["RS256"],
        currentDate: at,
        requiredClaims: ["sub", "iat", "exp", "jti", "sid"],
      }));
    } catch (error) {
      throw unauthorized(error instanceof errors.JWTExpired ? "token_expired" : "invalid_token", error);
    }
    const { sub, sid, jti, iat, exp } = payload;
    if (typeof sub !== "string" || !isUserId(sub) || typeof sid !== "string" || typeof jti !== "string") {
      throw unauthorized("invalid_token");
    }
    // `iat <= now`, allowing the clock skew between the nodes that mint and the nodes that verify.
    if (typeof iat !== "number" || iat * 1000 > now + IAT_SKEW_MS || typeof exp !== "number") {
      throw unauthorized("invalid_token");
    }
    return { userId: sub, sessionId: sid as SessionId, jti, issuedAt: iat * 1000, expiresAt: exp * 1000 };
  }
}
