import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import WebSocket from "ws";
import { createGateway, type Gateway, type GatewayDeps } from "../../gateway/gateway.js";
import { JWT_AUDIENCE, JWT_ISSUER } from "../../gateway/handshake.js";
import { inProcessJwks, type JwtKeySource } from "../../gateway/jwt-keys.js";
import type { GatewayLimits } from "../../gateway/limits.js";
import { RedisConnectionRegistry } from "../../runtime/adapters/redis/connection-registry.js";
import type { ManualClock } from "../../runtime/clock.js";
import type { IdFactory, UserId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import { createLogger } from "../../runtime/logger.js";
import type { ConnectionRegistry } from "../../runtime/ports/routing.js";
import { uniqueName } from "./engines.js";

/**
 * Test helpers for the connection plane: RSA keys and tokens made with jose, a gateway on a real HTTP server
 * on port 0, and a WebSocket client that records every frame. Only the clock is fake (a ManualClock).
 */
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface TestKeys {
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  readonly privateKey: KeyPair["privateKey"];
  readonly publicKey: KeyPair["publicKey"];
  readonly source: JwtKeySource;
  /** A valid access token for `userId` as of `nowMs`, with any claim or header overridden. */
  token(
    userId: string,
    nowMs: number,
    claims?: JWTPayload,
    header?: Record<string, unknown>,
  ): Promise<string>;
}

export async function testKeys(clock: ManualClock): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = uniqueName("kid-");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const jwks = { keys: [jwk] };
  return {
    kid,
    jwks,
    privateKey,
    publicKey,
    source: inProcessJwks({ load: () => jwks, clock }),
    token: (userId, nowMs, claims = {}, header = {}) => {
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT({
        sub: userId,
        iss: JWT_ISSUER,
        aud: JWT_AUDIENCE,
        iat,
        exp: iat + 3600,
        jti: randomUUID(),
        sid: "sess_test",
        scope: "messaging",
        ...claims,
      })
        .setProtectedHeader({ alg: "RS256", kid, ...header })
        .sign(privateKey);
    },
  };
}

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly server: Server;
  readonly registry: ConnectionRegistry;
  readonly keyPrefix: string;
  close(): Promise<void>;
}

export async function startGateway(options: {
  clock: ManualClock;
  ids: IdFactory;
  ingest: IngestApi;
  keys: JwtKeySource;
  redis: Redis;
  limits?: Partial<GatewayLimits>;
  gatewayId?: string;
  /** Shares another gateway's routing namespace (its keys are then left to that gateway to delete). */
  keyPrefix?: string;
  peers?: GatewayDeps["peers"];
}): Promise<RunningGateway> {
  const keyPrefix = options.keyPrefix ?? `${uniqueName("gw-")}:`;
  const ownsKeys = options.keyPrefix === undefined;
  const registry = new RedisConnectionRegistry({ redis: options.redis, keyPrefix });
  const gateway = createGateway({
    gatewayId: options.gatewayId ?? uniqueName("gateway-"),
    limits: options.limits ?? {},
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    clock: options.clock,
    ids: options.ids,
    ingest: options.ingest,
    connections: registry,
    keys: options.keys,
    ...(options.peers === undefined ? {} : { peers: options.peers }),
  });
  const server = createServer((_, response) => response.writeHead(404).end());
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = async () => {
    const drained = gateway.drain(1_000);
    options.clock.advance(1_000);
    await drained;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (ownsKeys) await deleteKeys(options.redis, keyPrefix);
  };
  return {
    gateway,
    server,
    registry,
    keyPrefix,
    url: `ws://127.0.0.1:${port}/v1/ws`,
    // Once: a test may close a gateway its suite's fixture closes again at the end.
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

export interface Frame {
  readonly type: string;
  readonly request_id?: string;
  readonly timestamp: string;
  readonly payload: Record<string, unknown> & {
    code?: string;
    reason?: string;
    details?: Record<string, unknown>;
  };
}

/** A WebSocket client that records frames and lets a test wait for one, with a deadline. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const wake of this.waiters.splice(0)) wake();
      }),
    );
    socket.on("error", () => {});
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first recorded frame (from `from` on) matching, waiting up to `timeoutMs`. */
  async next(match: (frame: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      const left = end - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  reply(requestId: string, timeoutMs?: number): Promise<Frame> {
    return this.next((frame) => frame.request_id === requestId, timeoutMs);
  }

  close(): void {
    this.socket.close(1000);
  }
}

export interface Refusal {
  readonly status: number;
  readonly body: { error: string; message: string; details?: Record<string, unknown> };
}

/** Opens a connection; resolves with the client once `connection_established` arrived, or with the refusal. */
export function connect(
  url: string,
  options: { token?: string; deviceId?: string; headers?: Record<string, string>; query?: string } = {},
): Promise<{ client: TestClient; established: Frame } | { refusal: Refusal }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.deviceId !== undefined) headers["x-device-id"] = options.deviceId;
  const socket = new WebSocket(options.query === undefined ? url : `${url}?${options.query}`, { headers });
  return new Promise((resolve, reject) => {
    socket.on("unexpected-response", (_request, response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => {
        text += String(chunk);
      });
      response.on("end", () =>
        resolve({ refusal: { status: response.statusCode ?? 0, body: JSON.parse(text) as Refusal["body"] } }),
      );
    });
    socket.once("error", reject);
    socket.once("open", () => {
      const client = new TestClient(socket);
      client
        .next((frame) => frame.type === "connection_established")
        .then((established) => resolve({ client, established }), reject);
    });
  });
}

/** Connects and fails the test unless the connection is established. */
export async function connected(
  url: string,
  options: Parameters<typeof connect>[1],
): Promise<{ client: TestClient; established: Frame }> {
  const result = await connect(url, options);
  if ("refusal" in result) throw new Error(`refused: ${JSON.stringify(result.refusal)}`);
  return result;
}

export const newDevice = (): string => randomUUID();
export const userIdOf = (ids: IdFactory): UserId => ids.user();
export { Redis };
