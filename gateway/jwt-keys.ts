import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import type { Clock } from "../runtime/clock.js";

/**
 * Where the gateway finds chat management's public keys (D11): a function from a token's protected header
 * (`kid`, `alg`) to the key, as jose's `jwtVerify` takes it. Two sources: chat management's JWKS over HTTP
 * (a cluster), and a JWKS handed over in-process (embedded). Both cache the set and reload it once when a
 * token names an unknown `kid` (a key rotation), at most once per cooldown, so forged `kid`s cannot make the
 * gateway hammer chat management.
 */
export type JwtKeySource = JWTVerifyGetKey;

export interface RemoteJwksOptions {
  /** E.g. `http://chatmgmt:8080/.well-known/jwks.json`. */
  readonly url: string;
  /** How long a fetched set is trusted before it is fetched again (spec: 300 s). */
  readonly cacheMaxAgeMs?: number;
  /** The least time between two fetches triggered by an unknown `kid` (spec: 30 s). */
  readonly cooldownMs?: number;
  /** Budget of one fetch. */
  readonly timeoutMs?: number;
}

export function remoteJwks(options: RemoteJwksOptions): JwtKeySource {
  return createRemoteJWKSet(new URL(options.url), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 300_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
}

export interface InProcessJwksOptions {
  /** Reads the current public key set (embedded mode: chat management's signer in this process). */
  readonly load: () => JSONWebKeySet | Promise<JSONWebKeySet>;
  readonly clock: Pick<Clock, "now">;
  /** The least time between two reloads triggered by an unknown `kid`; default 30 s. */
  readonly cooldownMs?: number;
}

export function inProcessJwks(options: InProcessJwksOptions): JwtKeySource {
  const cooldownMs = options.cooldownMs ?? 30_000;
  let current: { keys: JwtKeySource; loadedAt: number } | undefined;
  const reload = async () => {
    current = { keys: createLocalJWKSet(await options.load()), loadedAt: options.clock.now() };
    return current.keys;
  };
  return async (header, token) => {
    const keys = current?.keys ?? (await reload());
    try {
      return await keys(header, token);
    } catch (error) {
      const stale = current === undefined || options.clock.now() - current.loadedAt >= cooldownMs;
      if (!(error instanceof errors.JWKSNoMatchingKey) || !stale) throw error;
      return (await reload())(header, token);
    }
  };
}
