import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../deploy/local/free-port.js";
import { startDynalite } from "../runtime/adapters/dynamodb/dynalite-server.js";
import { SystemClock } from "../runtime/clock.js";
import { type Config, loadConfig } from "../runtime/config.js";
import { isAppError } from "../runtime/errors.js";
import { IngestGrpcClient } from "../runtime/grpc/ingest-client.js";
import type { HealthReport } from "../runtime/health.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { IdFactory, toSequence } from "../runtime/ids.js";
import type { IngestApi } from "../runtime/ingest-api.js";
import { createLogger } from "../runtime/logger.js";
import { createActiveChat } from "../test/support/chats.js";
import { engineEndpoint, uniqueName } from "../test/support/engines.js";
import { type RunningPlatform, startPlatform } from "./platform.js";

const clock = new SystemClock();
const logger = createLogger({ level: "silent" });
const running: RunningPlatform[] = [];
const dirs: string[] = [];

function configWith(env: Record<string, string>): Config {
  const dataDir = mkdtempSync(join(tmpdir(), "platform-"));
  dirs.push(dataDir);
  return loadConfig({ env: { PORT: "0", DATA_DIR: dataDir, NODE_ID: uniqueName("node-"), ...env } });
}

async function start(config: Config): Promise<RunningPlatform> {
  const platform = await startPlatform(config, logger, clock);
  running.push(platform);
  return platform;
}

/** The detailed health, which only the internal listener serves (the public one tells only the verdict). */
async function health(platform: RunningPlatform): Promise<{ status: number; body: HealthReport }> {
  const response = await fetch(`${platform.internalUrl}/health`);
  return { status: response.status, body: (await response.json()) as HealthReport };
}

/** An active chat with the given members, written straight to the platform's chat store. */
const chatWith = (platform: RunningPlatform, members: readonly UserId[]): Promise<ChatId> =>
  createActiveChat(
    platform.adapters.chatStore,
    { ids: new IdFactory(clock), clock },
    members,
    "platform test",
  );

async function sendAndSync(
  ingest: IngestApi,
  chatId: ChatId,
  sender: UserId,
  count: number,
): Promise<number[]> {
  for (let i = 0; i < count; i++) {
    await ingest.persist({
      chatId,
      senderId: sender,
      clientMessageId: `c-${i}`,
      content: `m${i}`,
      contentType: "text/plain",
    });
  }
  const page = await ingest.sync({ chatId, userId: sender, afterSequence: 0 });
  return page.messages.map((message) => message.sequence);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((platform) => platform.stop(0)));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the embedded platform", () => {
  it("answers /health with 200, its version and the adapter behind every port", async () => {
    const platform = await start(configWith({}));
    const before = clock.now();
    const { status, body } = await health(platform);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "healthy", service: "messaging-platform", role: "all" });
    // spec §2: `timestamp` is ISO-8601 UTC with ms, taken from the platform's clock when the checks ran.
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(body.timestamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(body.timestamp)).toBeLessThanOrEqual(clock.now());
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.adapters.storage?.adapter).toMatch(/^dynalite .*embedded/);
    expect(body.adapters.event_log).toMatchObject({ adapter: "in-process log", status: "up" });
    expect(body.adapters.routing).toMatchObject({ adapter: "in-memory", status: "up" });
    expect(await platform.adapters.nodes.liveNodes()).toHaveLength(4);
  });

  it("hosts the durability plane in-process: sends are sequenced and synced", async () => {
    const platform = await start(configWith({}));
    const ids = new IdFactory(clock);
    const alice = ids.user();
    const chatId = await chatWith(platform, [alice]);
    expect(await sendAndSync(platform.ingest as IngestApi, chatId, alice, 3)).toEqual([1, 2, 3]);
    expect(platform.grpcPort).toBeUndefined();
  });

  it("keeps stored messages in DATA_DIR across a restart", async () => {
    const config = configWith({});
    const ids = new IdFactory(clock);
    const chatId = ids.chat();
    const message = {
      chatId,
      sequence: toSequence(1),
      messageId: ids.message(),
      senderId: ids.user(),
      clientMessageId: "5f0c8a4e-1b7e-4a51-9a0e-0d6f3b0e2c11",
      content: "survives a restart",
      contentType: "text/plain" as const,
      createdAt: clock.now(),
    };
    const first = await start(config);
    expect(await first.adapters.messageStore.appendBlock(chatId, [message])).toBe("written");
    await first.stop(0);

    const second = await start({ ...config, port: 0 });
    expect(await second.adapters.messageStore.getMessage(chatId, toSequence(1))).toEqual(message);
  });

  it("answers 503 naming the storage when DynamoDB stops answering, and the process keeps serving", async () => {
    const dynalite = await startDynalite({ progress: () => {} });
    try {
      const platform = await start(configWith({ DYNAMODB_ENDPOINT: dynalite.endpoint }));
      expect((await health(platform)).status).toBe(200);
      await dynalite.stop();
      const { status, body } = await health(platform);
      expect(status).toBe(503);
      expect(body.status).toBe("degraded");
      expect(body.adapters.storage?.status).toBe("down");
      expect(body.adapters.event_log?.status).toBe("up");
    } finally {
      await dynalite.stop();
    }
  });

  it("refuses to start with SERVICE_UNAVAILABLE when Redis cannot be reached", async () => {
    const port = await freePort();
    const config = configWith({ REDIS_URL: `redis://127.0.0.1:${port}` });
    await expect(start(config)).rejects.toSatisfy(
      (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE",
    );
  });
});

/** Cluster roles outside dev mode need the deployment's internal gRPC token. */
const INTERNAL_GRPC_TOKEN = "platform-test-internal-token";

const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

describe.skipIf(!dynamodb || !redis || !kafka)("a platform process on the real engines", () => {
  it("serves IngestService over gRPC as an ingest node, answering with the same error codes", async () => {
    const platform = await start(
      configWith({
        ROLE: "ingest",
        GRPC_PORT: "0",
        INTERNAL_GRPC_TOKEN,
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        KAFKA_BROKERS: kafka ?? "",
        REDIS_URL: redis ?? "",
        TABLE_PREFIX: uniqueName("p"),
      }),
    );
    const client = new IngestGrpcClient({
      address: `127.0.0.1:${platform.grpcPort}`,
      internalToken: INTERNAL_GRPC_TOKEN,
    });
    try {
      const ids = new IdFactory(clock);
      const [alice, eve] = [ids.user(), ids.user()];
      const chatId = await chatWith(platform, [alice]);
      expect(await sendAndSync(client, chatId, alice, 2)).toEqual([1, 2]);
      await expect(
        client.persist({
          chatId,
          senderId: eve,
          clientMessageId: "e-1",
          content: "hi",
          contentType: "text/plain",
        }),
      ).rejects.toSatisfy((error: unknown) => isAppError(error) && error.code === "NOT_A_MEMBER");
      const live = await platform.adapters.nodes.liveNodes("ingest");
      expect(live.map((node) => node.address)).toContain(`127.0.0.1:${platform.grpcPort}`);
    } finally {
      client.close();
    }
  });

  it("refuses to start a gateway that could not verify tokens (no JWKS_URL, no chat management)", async () => {
    const refused = await start(
      configWith({
        ROLE: "gateway",
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        GRPC_PORT: "0",
        INTERNAL_GRPC_TOKEN,
        TABLE_PREFIX: uniqueName("p"),
      }),
    ).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "CONFIG_INVALID", details: { option: "JWKS_URL" } });
  });

  it("reports DynamoDB, Kafka and Redis up in /health and announces its node in Redis", async () => {
    const nodeId = uniqueName("gw-");
    const prefix = uniqueName("p");
    const platform = await start(
      configWith({
        ROLE: "gateway",
        NODE_ID: nodeId,
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        KAFKA_BROKERS: kafka ?? "",
        REDIS_URL: redis ?? "",
        TABLE_PREFIX: prefix,
        GRPC_PORT: "0",
        INTERNAL_GRPC_TOKEN,
        // Fetched on the first handshake only; none happens here.
        JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
      }),
    );
    const { status, body } = await health(platform);
    expect(status).toBe(200);
    expect(body.adapters.storage?.adapter).toContain(dynamodb);
    expect(body.adapters.event_log?.adapter).toContain("kafka");
    expect(body.adapters.routing?.adapter).toContain("redis");
    const live = await platform.adapters.nodes.liveNodes("gateway");
    expect(live.map((node) => node.nodeId)).toContain(nodeId);
    await platform.stop(0);
    // A graceful stop leaves the registry at once; checked through a second process's view.
    const observer = await start(
      configWith({
        DYNAMODB_ENDPOINT: dynamodb ?? "",
        REDIS_URL: redis ?? "",
        TABLE_PREFIX: prefix,
      }),
    );
    expect((await observer.adapters.nodes.liveNodes("gateway")).map((node) => node.nodeId)).not.toContain(
      nodeId,
    );
  });
});
