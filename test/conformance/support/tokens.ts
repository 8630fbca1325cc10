import { createPrivateKey, randomUUID } from "node:crypto";
import { decodeProtectedHeader, type JWTPayload, SignJWT } from "jose";
import { call } from "./rest.js";

/**
 * Access tokens made by the suite itself. The suite gives the platform its signing key through the documented
 * JWT_PRIVATE_KEY_FILE (as an operator would), so it can present tokens the platform would never mint — expired,
 * not yet valid, without `jti`, about to expire — and check the handshake's verdict on each. The `kid` comes
 * from the platform's public JWKS, never from its code.
 */
export class TokenMint {
  private constructor(
    private readonly pem: string,
    readonly kid: string,
  ) {}

  static async forPlatform(baseUrl: string, pem: string): Promise<TokenMint> {
    const jwks = await call<{ keys: Array<{ kid: string }> }>(baseUrl, "GET", "/.well-known/jwks.json");
    const kid = jwks.body.keys[0]?.kid;
    if (jwks.status !== 200 || kid === undefined) throw new Error(`no JWKS: ${jwks.status}`);
    return new TokenMint(pem, kid);
  }

  /**
   * An RS256 token with the platform's claims (spec §3.3) for `sub`, valid for `ttlS` from `iatS`; `claims`
   * overrides or (with `undefined`) removes any of them.
   */
  async token(
    sub: string,
    options: {
      ttlS?: number;
      iatS?: number;
      claims?: Record<string, unknown>;
      kid?: string;
      key?: string;
    } = {},
  ): Promise<string> {
    const iat = options.iatS ?? Math.floor(Date.now() / 1000) - 5;
    const payload: JWTPayload = {
      sub,
      iss: "messaging-platform",
      aud: "messaging-api",
      iat,
      exp: iat + (options.ttlS ?? 600),
      jti: randomUUID(),
      scope: "messaging",
    };
    for (const [name, value] of Object.entries(options.claims ?? {})) {
      if (value === undefined) delete payload[name];
      else payload[name] = value;
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: options.kid ?? this.kid, typ: "JWT" })
      .sign(createPrivateKey(options.key ?? this.pem));
  }
}

/** The `kid` of a token the platform minted (its protected header). */
export const kidOf = (token: string): string | undefined => decodeProtectedHeader(token).kid;
