import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { type RunningPlatform, startPlatform } from "../../../app/platform.js";
import { AccessTokens } from "../../../chatmgmt/auth/access-tokens.js";
import { signingKeyFromPem } from "../../../chatmgmt/auth/signing-keys.js";
import { type LocalCluster, startLocalCluster } from "../../../deploy/local/cluster.js";
import { encodeFrame } from "../../../gateway/server-frames.js";
import { DynamoChatStore } from "../../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../../runtime/adapters/dynamodb/client.js";
import { DynamoSessionStore } from "../../../runtime/adapters/dynamodb/session-store.js";
import { deleteTables } from "../../../runtime/adapters/dynamodb/tables.js";
import { SystemClock } from "../../../runtime/clock.js";
import { loadConfig } from "../../../runtime/config.js";
import { type ChatId, IdFactory, type MessageId, type SessionId, type UserId } from "../../../runtime/ids.js";
import { createLogger } from "../../../runtime/logger.js";
import type { ChatStore } from "../../../runtime/ports/chat-store.js";
import type { SessionStore } from "../../../runtime/ports/session-store.js";
import { createActiveChat } from "../../support/chats.js";
import { uniqueName } from "../../support/engines.js";
import type { Target } from "./protocol.js";

/**
 * The systems the load scenarios measure: the platform (embedded in this process, or the local cluster of
 * one process per role) and bare `ws` servers as baselines. Every one serves `/v1/ws` on loopback, port 0.
 */

export const clock = new SystemClock();
export const ids = new IdFactory(clock);

/** A platform under test: where clients connect, how users get tokens, how chats are made. */
export interface PlatformUnderTest {
  readonly label: "embedded" | "cluster";
  /** WebSocket URLs of its gateways (clients are spread over them). */
  readonly gatewayUrls: readonly string[];
  /** Each user's connection target on gateway `index mod gateways`. */
  targets(users: readonly UserId[], offset?: number): Promise<Target[]>;
  /** An active group chat with these members (the first is the owner). */
  chat(members: readonly UserId[]): Promise<ChatId>;
  /** Adapters and in-process planes, embedded only. */
  readonly embedded: RunningPlatform | undefined;
  readonly settings: Readonly<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Access tokens signed by the key the platform's chat management loads (JWT_PRIVATE_KEY_FILE). */
/**
 * Access tokens for the load's users, each on a session of its own stored where the platform keeps sessions:
 * the gateway's handshake refuses a token whose session does not exist (a revoked one).
 */
async function tokenMint(dataDir: string) {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ format: "pem", type: "pkcs8" })
    .toString();
  const file = join(dataDir, "jwt-signing-key.pem");
  writeFileSync(file, pem, { mode: 0o600 });
  const tokens = new AccessTokens(await signingKeyFromPem(pem), clock, ids, 3600);
  const sessionOf = async (sessions: SessionStore, userId: UserId, deviceId: string) => {
    const now = clock.now();
    const sessionId = `sess_${ids.ulid()}` as SessionId;
    await sessions.createSession({
      sessionId,
      userId,
      deviceId,
      refreshTokenHash: randomBytes(16).toString("hex"),
      previousTokenHashes: [],
      tokenFamily: ids.ulid(),
      tokenGeneration: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: now + 24 * 3_600_000,
    });
    return sessionId;
  };
  return {
    file,
    targets: (sessions: SessionStore, urls: readonly string[], users: readonly UserId[], offset = 0) =>
      Promise.all(
        users.map(async (userId, index) => {
          const deviceId = `bench-${index + offset}`;
          const session = await sessionOf(sessions, userId, deviceId);
          return {
            url: urls[(index + offset) % urls.length] as string,
            headers: {
              authorization: `Bearer ${(await tokens.mint(userId, session)).token}`,
              "x-device-id": deviceId,
            },
          };
        }),
      ),
  };
}

const wsUrlOf = (httpUrl: string) => `${httpUrl.replace(/^http/, "ws")}/v1/ws`;

/**
 * Raised send limits: the load comes from fewer connections than real users would use (each of those would
 * stay within D9's 30/s per connection and 10/s per chat), so the per-connection limits must not cap it.
 */
export const LOAD_LIMITS_ENV = {
  WS_SEND_PER_CONNECTION_PER_S: "1000000",
  WS_SEND_PER_CHAT_PER_S: "1000000",
  WS_SEND_PER_CHAT_BURST: "1000000",
  // Every load client connects from 127.0.0.1.
  WS_MAX_CONNECTIONS_PER_IP: "1000000",
} as const;

/**
 * The embedded platform (`npm start`: every role in this process, the in-process event log and in-memory
 * routing), storing in the DynamoDB of `engines` when it names one (tables under a prefix of their own,
 * dropped at stop), else in dynalite in-process under a temporary DATA_DIR.
 */
export async function startEmbedded(
  engines: Readonly<Record<string, string | undefined>>,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<PlatformUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-embedded-"));
  const mint = await tokenMint(dataDir);
  const endpoint = engines.DYNAMODB_ENDPOINT;
  const tablePrefix = uniqueName("bench_");
  const config = loadConfig({
    env: {
      PORT: "0",
      DATA_DIR: dataDir,
      NODE_ID: uniqueName("bench-"),
      LOG_LEVEL: "silent",
      JWT_PRIVATE_KEY_FILE: mint.file,
      // Traces sampled as in production (spec §3: 1%), not every one as an idle embedded platform does.
      TRACING_SAMPLE_RATIO: "0.01",
      ...(endpoint ? { DYNAMODB_ENDPOINT: endpoint, TABLE_PREFIX: tablePrefix } : {}),
      ...extraEnv,
    },
  });
  const platform = await startPlatform(config, createLogger({ level: "silent" }), clock);
  const url = wsUrlOf(platform.baseUrl);
  return {
    label: "embedded",
    gatewayUrls: [url],
    embedded: platform,
    targets: (users, offset) =>
      mint.targets(platform.adapters.chatManagement.sessionStore, [url], users, offset),
    chat: (members) => createActiveChat(platform.adapters.chatStore, { ids, clock }, members, "bench"),
    settings: {
      mode: "embedded (all roles in the bench process, in-process event log, in-memory routing)",
      storage: endpoint ? `DynamoDB API at ${endpoint} (another process)` : "dynalite in-process",
      env: extraEnv,
    },
    stop: async () => {
      await platform.stop(0);
      if (endpoint) await dropTables(endpoint, tablePrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function dropTables(endpoint: string, prefix: string): Promise<void> {
  const client = createDynamoClient({ endpoint, region: "us-east-1" });
  try {
    await deleteTables(client, prefix);
  } catch {
    // A busy shared engine: leftover tables carry a unique prefix and harm nobody.
  } finally {
    client.destroy();
  }
}

/** The local cluster (`npm run cluster`): one process per role on the engines' DynamoDB, Redis and Kafka. */
export async function startCluster(
  engines: Readonly<Record<string, string | undefined>>,
  shape: { gateways: number; ingest: number; fanout: number; chatmgmt: number },
  extraEnv: Readonly<Record<string, string>> = {},
  progress: (line: string) => void = () => {},
): Promise<PlatformUnderTest> {
  const { DYNAMODB_ENDPOINT, REDIS_URL, KAFKA_BROKERS } = engines;
  if (!DYNAMODB_ENDPOINT || !REDIS_URL || !KAFKA_BROKERS) {
    throw new Error("the cluster needs DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS");
  }
  const dataDir = mkdtempSync(join(tmpdir(), "bench-cluster-"));
  const mint = await tokenMint(dataDir);
  const tablePrefix = uniqueName("bench_");
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      shape,
      engines: { DYNAMODB_ENDPOINT, REDIS_URL, KAFKA_BROKERS },
      dataDir,
      entryPort: 0,
      tablePrefix,
      env: {
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: "2000",
        // The broker and its topics are shared: a consumer group of this run's own.
        FANOUT_GROUP: uniqueName("fanout-bench-"),
        ...extraEnv,
      },
      progress,
      startTimeoutMs: 90_000,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const urls = cluster.nodes
    .filter((node) => node.role === "gateway")
    .map((node) => `ws://127.0.0.1:${node.httpPort}/v1/ws`);
  const dynamo = createDynamoClient({ endpoint: DYNAMODB_ENDPOINT, region: "us-east-1" });
  const chatStore: ChatStore = new DynamoChatStore({ client: dynamo, tablePrefix, clock });
  const sessions = new DynamoSessionStore({ client: dynamo, tablePrefix, clock });
  return {
    label: "cluster",
    gatewayUrls: urls,
    embedded: undefined,
    targets: (users, offset) => mint.targets(sessions, urls, users, offset),
    chat: (members) => createActiveChat(chatStore, { ids, clock }, members, "bench"),
    settings: { mode: "cluster (one process per role)", shape, env: extraEnv },
    stop: async () => {
      dynamo.destroy();
      await cluster.stop();
      await dropTables(DYNAMODB_ENDPOINT, tablePrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/* ---------------------------------------------------------------- bare ws baselines */

export interface BareServer {
  readonly url: string;
  /** Sockets by the `group` query parameter they connected with. */
  readonly groups: Map<string, Set<WebSocket>>;
  stop(): Promise<void>;
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const groupOf = (request: IncomingMessage) =>
  new URL(request.url ?? "/", "http://localhost").searchParams.get("group") ?? "";

/**
 * A bare `ws` server: no auth, no machine, no buffers of its own. With `relay`, a `send_message` frame is
 * answered with an ack and pushed as a `message` frame to the sockets of the group named by its chat_id,
 * which is what the platform does minus persistence, sequencing and routing.
 */
export async function startBareServer(options: { relay: boolean }): Promise<BareServer> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: "/v1/ws", perMessageDeflate: false });
  const groups = new Map<string, Set<WebSocket>>();
  const sequences = new Map<string, number>();
  wss.on("connection", (socket, request) => {
    const name = groupOf(request);
    let group = groups.get(name);
    if (group === undefined) {
      group = new Set();
      groups.set(name, group);
    }
    group.add(socket);
    socket.on("close", () => group.delete(socket));
    if (options.relay) socket.on("message", (data) => relay(socket, data));
  });
  const relay = (from: WebSocket, data: WebSocket.RawData) => {
    const frame = JSON.parse(data.toString()) as {
      request_id: string;
      payload: { chat_id: string; client_message_id: string; content: string; content_type: string };
    };
    const chatId = frame.payload.chat_id as ChatId;
    const sequence = (sequences.get(chatId) ?? 0) + 1;
    sequences.set(chatId, sequence);
    const now = Date.now();
    const messageId = ids.message() as MessageId;
    from.send(
      encodeFrame(
        {
          type: "send_message_ack",
          request_id: frame.request_id,
          payload: {
            message_id: messageId,
            chat_id: chatId,
            client_message_id: frame.payload.client_message_id,
            sequence,
            created_at: new Date(now).toISOString(),
          },
        } as never,
        now,
      ),
    );
    const push = encodeFrame(
      {
        type: "message",
        payload: {
          message_id: messageId,
          chat_id: chatId,
          sequence,
          sender_id: "user_bare",
          content: frame.payload.content,
          content_type: frame.payload.content_type,
          created_at: new Date(now).toISOString(),
        },
      } as never,
      now,
    );
    for (const socket of groups.get(chatId) ?? []) socket.send(push);
  };
  const port = await listen(server);
  return {
    url: `ws://127.0.0.1:${port}/v1/ws`,
    groups,
    stop: async () => {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Targets on a bare server: socket i joins group `groupOf(i)`. */
export const bareTargets = (url: string, count: number, groupOf: (index: number) => string): Target[] =>
  Array.from({ length: count }, (_, index) => ({
    url: `${url}?group=${encodeURIComponent(groupOf(index))}`,
  }));

/** Offered message text of `bytes` bytes. */
export const contentOf = (bytes: number): string =>
  "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group. "
    .repeat(Math.ceil(bytes / 90))
    .slice(0, bytes);
