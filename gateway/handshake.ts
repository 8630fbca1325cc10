import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { errors, jwtVerify } from "jose";
import { isoTime } from "../runtime/clock.js";
import { isDeviceId, MAX_DEVICE_ID_LENGTH } from "../runtime/device-id.js";
import { isUserId, type UserId } from "../runtime/ids.js";
import type { JwtKeySource } from "./jwt-keys.js";
import { SUPPORTED_VERSIONS } from "./limits.js";

/**
 * The upgrade request's checks (spec/protocol.md §3, spec/rest-data-auth-chats.md §3.3), in the documented
 * order, each refusal an HTTP status with a JSON body `{error, message, details?}`.
 */
export type RejectionError =
  | "invalid_request"
  | "unsupported_version"
  | "invalid_token"
  | "token_revoked"
  | "rate_limited"
  | "service_unavailable";

export class HandshakeRejection extends Error {
  constructor(
    readonly status: 400 | 401 | 429 | 503,
    readonly error: RejectionError,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }

  body(): string {
    return JSON.stringify(
      this.details === undefined
        ? { error: this.error, message: this.message }
        : { error: this.error, message: this.message, details: this.details },
    );
  }
}

/** Answers a refused upgrade with the documented status and JSON body, then closes the socket. */
export function refuse(socket: Duplex, rejection: HandshakeRejection): void {
  if (socket.destroyed) return;
  const body = rejection.body();
  const hint = rejection.details?.retry_after_seconds;
  const retryAfter =
    typeof hint === "number"
      ? `Retry-After: ${hint}\r\n`
      : rejection.status === 503
        ? "Retry-After: 5\r\n"
        : "";
  socket.end(
    `HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status]}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      retryAfter +
      "Connection: close\r\n\r\n" +
      body,
  );
}

/** Who is connecting: the verified token's claims and the client's device. */
export interface Principal {
  readonly userId: UserId;
  /** JWT `sid`: the session, so chat management can close a revoked session's connections. */
  readonly sessionId: string | undefined;
  readonly tokenId: string;
  /** JWT `exp` in epoch milliseconds: the connection closes with `token_expired` then. */
  readonly expiresAt: number;
  readonly deviceId: string;
}

export const JWT_ISSUER = "messaging-platform";
export const JWT_AUDIENCE = "messaging-api";
const WS_PATH = /^\/v(\d+)\/ws\/?$/;

/** The protocol version named by the path, or undefined when the path is not a WebSocket endpoint of ours. */
export function versionOf(path: string): number | undefined {
  const match = WS_PATH.exec(path);
  return match === null ? undefined : Number(match[1]);
}

export function checkVersion(version: number): void {
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(version)) {
    throw new HandshakeRejection(400, "unsupported_version", `protocol version ${version} is not served`, {
      supported_versions: [...SUPPORTED_VERSIONS],
      requested_version: version,
    });
  }
}

/** Token and device id from headers (preferred) or the query string (browsers). */
export function credentialsOf(request: IncomingMessage, url: URL): { token: string; deviceId: string } {
  const header = request.headers.authorization;
  let token: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
    if (match?.[1] === undefined) {
      throw new HandshakeRejection(400, "invalid_request", "Authorization must be `Bearer <token>`");
    }
    token = match[1];
  } else {
    token = url.searchParams.get("token") ?? undefined;
  }
  const deviceHeader = request.headers["x-device-id"];
  const deviceId =
    (Array.isArray(deviceHeader) ? deviceHeader[0] : deviceHeader) ??
    url.searchParams.get("device_id") ??
    undefined;
  if (deviceId === undefined || deviceId === "") {
    throw new HandshakeRejection(
      400,
      "invalid_request",
      "device_id is required (X-Device-ID or ?device_id=)",
    );
  }
  if (!isDeviceId(deviceId)) {
    throw new HandshakeRejection(
      400,
      "invalid_request",
      `device_id must be 1-${MAX_DEVICE_ID_LENGTH} letters, digits, . _ : -`,
    );
  }
  if (token === undefined || token === "") {
    throw new HandshakeRejection(401, "invalid_token", "an access token is required");
  }
  return { token, deviceId };
}

const invalidToken = (message: string, details?: Record<string, unknown>) =>
  new HandshakeRejection(401, "invalid_token", message, details);

/**
 * RS256 only (so `alg: none` and HS256-with-the-public-key are refused before any key is used), issuer and
 * audience fixed, `sub`/`iat`/`exp`/`jti` required, `exp > now`, `iat <= now`, `nbf <= now` when present.
 * `now` comes from the injected clock.
 */
export async function verifyAccessToken(
  token: string,
  keys: JwtKeySource,
  now: number,
): Promise<Omit<Principal, "deviceId">> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: ["RS256"],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      requiredClaims: ["sub", "iat", "exp", "jti"],
      currentDate: new Date(now),
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      const exp = error.payload.exp;
      throw invalidToken(
        "the access token expired",
        typeof exp === "number" ? { expired_at: isoTime(exp * 1000) } : undefined,
      );
    }
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
      throw new HandshakeRejection(503, "service_unavailable", "token keys are unavailable; retry later");
    }
    if (error instanceof errors.JOSEError) throw invalidToken("the access token is invalid");
    // A key source that cannot answer (JWKS unreachable) is our outage, not the client's bad token.
    throw new HandshakeRejection(503, "service_unavailable", "token keys are unavailable; retry later");
  }
  const { sub, jti, sid, iat, exp } = payload;
  if (typeof sub !== "string" || !isUserId(sub)) throw invalidToken("the token's subject is not a user id");
  if (typeof jti !== "string" || jti === "") throw invalidToken("the token has no jti");
  if (typeof iat !== "number" || iat * 1000 > now) throw invalidToken("the token is not valid yet");
  if (typeof exp !== "number") throw invalidToken("the token has no exp");
  if (sid !== undefined && typeof sid !== "string") throw invalidToken("the token's sid is not a string");
  return { userId: sub, sessionId: sid, tokenId: jti, expiresAt: exp * 1000 };
}
