import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { startDynalite } from "../../runtime/adapters/dynamodb/dynalite-server.js";
import { encodeIdempotencyRecord, encodeMessage } from "../../runtime/adapters/dynamodb/message-items.js";
import { requireStorageFormat } from "../../runtime/adapters/dynamodb/storage-format.js";
import { deleteTables, ensureTables, tableName } from "../../runtime/adapters/dynamodb/tables.js";
import { runTablesCli } from "../../runtime/adapters/dynamodb/tables-cli.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { isAppError } from "../../runtime/errors.js";
import { type ChatId, IdFactory, toSequence, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";

const dynamodb = engineEndpoint("dynamodb");
const clock = new SystemClock();
const ids = new IdFactory(clock);
const logger = createLogger({ level: "silent" });

interface LegacyChat {
  readonly chatId: ChatId;
  readonly alice: UserId;
  readonly messages: readonly StoredMessage[];
  /** A claim of the previous format whose sequence another message took (a crash after the claim). */
  readonly orphanClientMessageId: string;
}

/**
 * What the previous version left in a table: one item per message, a claim per client_message_id, and an
 * orphan claim (its send crashed after claiming 2, which another send then took).
 */
async function writePreviousFormat(
  client: DynamoDBClient,
  prefix: string,
  count: number,
): Promise<LegacyChat> {
  const alice = ids.user();
  const chatStore = new DynamoChatStore({ client, tablePrefix: prefix, clock });
  const chatId = await createActiveChat(chatStore, { ids, clock }, [alice, ids.user()], "legacy chat");
  const messages: StoredMessage[] = Array.from({ length: count }, (_, index) => ({
    chatId,
    sequence: toSequence(index + 1),
    messageId: ids.message(),
    senderId: alice,
    clientMessageId: randomUUID(),
    content: `written by the previous version ${index + 1}`,
    contentType: "text/plain",
    createdAt: clock.now() - 60_000 + index,
  }));
  const put = (table: "messages" | "idempotency_keys", Item: ReturnType<typeof encodeMessage>) =>
    client.send(new PutItemCommand({ TableName: tableName(prefix, table), Item }));
  for (const message of messages) {
    await put("messages", encodeMessage(message));
    await put(
      "idempotency_keys",
      encodeIdempotencyRecord({ ...message, expiresAt: message.createdAt + 7 * 24 * 3_600_000 }),
    );
  }
  const orphanClientMessageId = randomUUID();
  await put(
    "idempotency_keys",
    encodeIdempotencyRecord({
      chatId,
      clientMessageId: orphanClientMessageId,
      messageId: ids.message(),
      sequence: toSequence(2),
      createdAt: clock.now() - 30_000,
      expiresAt: clock.now() + 3_600_000,
    }),
  );
  return { chatId, alice, messages, orphanClientMessageId };
}

/** The platform over migrated data: old messages readable, old retries deduplicated, new sends continue. */
async function expectServedAfterMigration(platform: RunningPlatform, legacy: LegacyChat): Promise<void> {
  const ingest = platform.ingest;
  if (ingest === undefined) throw new Error("no ingest role");
  const { chatId, alice, messages } = legacy;
  const page = await ingest.sync({ chatId, userId: alice, afterSequence: 0, limit: 500 });
  expect(page.messages.map((m) => [m.sequence, m.messageId, m.content])).toEqual(
    messages.map((m) => [m.sequence, m.messageId, m.content]),
  );
  const counters = await platform.adapters.messageStore.getCounters(chatId);
  expect(counters?.indexedThrough).toBe(messages.length);
  // A retry of a message the previous version stored is found through the rewritten index.
  const old = messages[1] as StoredMessage;
  const retry = await ingest.persist({
    chatId,
    senderId: alice,
    clientMessageId: old.clientMessageId,
    content: "retried after the upgrade",
    contentType: "text/plain",
  });
  expect(retry).toMatchObject({ sequence: old.sequence, messageId: old.messageId, deduplicated: true });
  // The orphan claim points at a sequence that holds another message: it does not count.
  const orphan = await ingest.persist({
    chatId,
    senderId: alice,
    clientMessageId: legacy.orphanClientMessageId,
    content: "never stored before",
    contentType: "text/plain",
  });
  expect(orphan).toMatchObject({ sequence: messages.length + 1, deduplicated: false });
  const fresh = await ingest.persist({
    chatId,
    senderId: alice,
    clientMessageId: randomUUID(),
    content: "the first block",
    contentType: "text/plain",
  });
  expect(fresh.sequence).toBe(messages.length + 2);
}

describe("D16 rule 10: data of the previous storage format", () => {
  const running: RunningPlatform[] = [];
  const dirs: string[] = [];
  const client = createDynamoClient({ endpoint: dynamodb ?? "http://127.0.0.1:9", region: "us-east-1" });
  const prefix = uniqueName("migrate");
  afterAll(async () => {
    for (const platform of running) await platform.stop(0);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (dynamodb !== undefined) await deleteTables(client, prefix).catch(() => {});
    client.destroy();
  });

  it("the embedded platform migrates a DATA_DIR of the previous format at start-up; nothing acknowledged is lost", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "migrate-"));
    dirs.push(dataDir);
    // The previous version's embedded storage: dynalite on disk under DATA_DIR, unprefixed tables.
    const engine = await startDynalite({ progress: () => {}, path: join(dataDir, "dynamodb") });
    const local = createDynamoClient({ endpoint: engine.endpoint, region: "us-east-1" });
    await ensureTables(local, "");
    const legacy = await writePreviousFormat(local, "", 5);
    local.destroy();
    await engine.stop();

    const config = loadConfig({
      env: { PORT: "0", DATA_DIR: dataDir, NODE_ID: uniqueName("node-"), LOG_LEVEL: "silent" },
    });
    const platform = await startPlatform(config, logger, clock);
    running.push(platform);
    await expectServedAfterMigration(platform, legacy);
  });

  describe.skipIf(!dynamodb)("on a shared DynamoDB", () => {
    it("a node refuses the previous format naming the command; `npm run tables -- --migrate` migrates, idempotently; a previous-version writer is then detected", async () => {
      await ensureTables(client, prefix);
      const legacy = await writePreviousFormat(client, prefix, 4);
      const env = { DYNAMODB_ENDPOINT: dynamodb ?? "", TABLE_PREFIX: prefix };

      const refused = await requireStorageFormat({
        client,
        tablePrefix: prefix,
        clock,
        migrate: false,
        progress: () => {},
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isAppError(refused) && refused.code === "CONFIG_INVALID").toBe(true);
      expect((refused as Error).message).toContain("npm run tables -- --migrate");

      const lines: string[] = [];
      const output = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
      expect(await runTablesCli(["--migrate"], env, output)).toBe(0);
      expect(lines.some((line) => line.includes("migrate: 4 items read"))).toBe(true);
      expect(lines.at(-1)).toContain("migrated 4 items of 1 chats");
      lines.length = 0;
      expect(await runTablesCli(["--migrate"], env, output)).toBe(0);
      expect(lines.at(-1)).toContain("already in the current storage format");

      const config = loadConfig({
        env: { PORT: "0", NODE_ID: uniqueName("node-"), LOG_LEVEL: "silent", ...env },
      });
      const platform = await startPlatform(config, logger, clock);
      running.push(platform);
      await expectServedAfterMigration(platform, legacy);

      // A node of the previous version still writing: an item of the old format above indexed_through.
      await platform.stop(0);
      running.splice(running.indexOf(platform), 1);
      const tail = legacy.messages.length + 2;
      await client.send(
        new PutItemCommand({
          TableName: tableName(prefix, "messages"),
          Item: encodeMessage({
            ...(legacy.messages[0] as StoredMessage),
            sequence: toSequence(tail + 1),
            messageId: ids.message(),
            clientMessageId: randomUUID(),
          }),
        }),
      );
      const next = await startPlatform({ ...config, port: 0 }, logger, clock);
      running.push(next);
      const refusedSend = await next.ingest
        ?.persist({
          chatId: legacy.chatId,
          senderId: legacy.alice,
          clientMessageId: randomUUID(),
          content: "must not be written next to an old writer",
          contentType: "text/plain",
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(isAppError(refusedSend) && refusedSend.code === "SERVICE_UNAVAILABLE").toBe(true);
      expect(await next.adapters.messageStore.readTail(legacy.chatId)).toBe(tail + 1);
    });
  });
});
