import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../deploy/local/free-port.js";
import { engineEndpoint, uniqueName } from "../../../test/support/engines.js";
import { ManualClock } from "../../clock.js";
import { IdFactory, toSequence } from "../../ids.js";
import { directPairKey } from "../../ports/chat-store.js";
import type { StoredMessage } from "../../ports/message-store.js";
import { DynamoActivationStore } from "./activation-store.js";
import { DynamoChatStore } from "./chat-store.js";
import { createDynamoClient } from "./client.js";
import type { Item } from "./item-codec.js";
import { DynamoMessageStore } from "./message-store.js";
import { DynamoRingStore } from "./ring-store.js";
import { deleteTables, ensureTables, TABLE_KEYS, TABLES, type TableKey, tableName } from "./tables.js";
import { runTablesCli } from "./tables-cli.js";

const endpoint = engineEndpoint("dynamodb");
const REGION = "us-east-1";

/** Captures a CLI run's lines instead of printing them. */
const capture = () => {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, output: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l) } };
};

describe("the tables command without an engine", () => {
  it("--help prints the usage and exits 0", async () => {
    const { lines, output } = capture();
    expect(await runTablesCli(["--help"], {}, output)).toBe(0);
    expect(lines.out.join("\n")).toMatch(/--endpoint <url>.*DYNAMODB_ENDPOINT/);
  });

  it("bad arguments exit 2 with the reason", async () => {
    for (const argv of [
      ["--bogus"],
      ["--prefix", "no spaces"],
      ["--endpoint", "not a url"],
      ["--endpoint", "localhost:8000"],
    ]) {
      const { lines, output } = capture();
      expect(await runTablesCli(argv, {}, output)).toBe(2);
      expect(lines.err.join("\n")).toMatch(/^tables: /);
    }
  });

  it("an unreachable endpoint exits 1 with a message naming the endpoint and the network error", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const { lines, output } = capture();
    expect(await runTablesCli(["--endpoint", down], {}, output)).toBe(1);
    expect(lines.err.join("\n")).toContain(`failed on ${down}`);
    expect(lines.err.join("\n")).toContain("ECONNREFUSED");
  });
});

describe.skipIf(!endpoint)("DynamoDB tables", () => {
  let client: DynamoDBClient;
  const prefixes: string[] = [];
  const freshPrefix = () => {
    const prefix = uniqueName("tables_");
    prefixes.push(prefix);
    return prefix;
  };
  const describeTable = async (name: string) =>
    (await client.send(new DescribeTableCommand({ TableName: name }))).Table;

  beforeAll(() => {
    client = createDynamoClient({ endpoint: endpoint ?? "", region: REGION });
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteTables(client, prefix);
    client.destroy();
  });

  it("ensureTables creates every table with its keys and indexes, and a second run leaves them alone", async () => {
    const prefix = freshPrefix();
    const names = TABLE_KEYS.map((key) => tableName(prefix, key)).sort();
    const progress: string[] = [];
    expect(await ensureTables(client, prefix, (line) => progress.push(line))).toEqual({
      created: names,
      existing: [],
    });
    expect(progress).toHaveLength(TABLE_KEYS.length);
    for (const key of TABLE_KEYS) {
      const definition = TABLES[key];
      const table = await describeTable(tableName(prefix, key));
      expect(table?.TableStatus).toBe("ACTIVE");
      expect(table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
      expect(table?.KeySchema).toEqual([
        { AttributeName: definition.partitionKey.name, KeyType: "HASH" },
        ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: "RANGE" }] : []),
      ]);
      const indexes = (table?.GlobalSecondaryIndexes ?? []).map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema?.map((k) => k.AttributeName),
        projection: index.Projection?.ProjectionType,
      }));
      expect(indexes).toEqual(
        definition.globalIndexes.map((index) => ({
          name: index.indexName,
          keys: [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])],
          projection: index.projection,
        })),
      );
    }
    expect(await ensureTables(client, prefix)).toEqual({ created: [], existing: names });
  });

  it("concurrent runs on one prefix both succeed and create each table once", async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([ensureTables(client, prefix), ensureTables(client, prefix)]);
    expect([...a.created, ...b.created].sort()).toEqual(
      TABLE_KEYS.map((key) => tableName(prefix, key)).sort(),
    );
  });

  it("an existing table with other keys is refused with CONFIG_INVALID and left as it is", async () => {
    const prefix = freshPrefix();
    const name = tableName(prefix, "messages");
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "chat_id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "chat_id", KeyType: "HASH" }],
      }),
    );
    await expect(ensureTables(client, prefix)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining(`table ${name} exists but does not match`),
    });
    expect((await describeTable(name))?.KeySchema).toHaveLength(1);
  });

  it("the tables command creates the tables and a second run finds them all", async () => {
    const prefix = freshPrefix();
    const first = capture();
    expect(await runTablesCli(["--prefix", prefix], { DYNAMODB_ENDPOINT: endpoint }, first.output)).toBe(0);
    expect(first.lines.out.at(-1)).toBe(`tables: done (${TABLE_KEYS.length} created, 0 already there)`);
    const second = capture();
    expect(await runTablesCli(["--endpoint", endpoint ?? "", "--prefix", prefix], {}, second.output)).toBe(0);
    expect(second.lines.out.at(-1)).toBe(`tables: done (0 created, ${TABLE_KEYS.length} already there)`);
  });

  it("`npm run tables` runs as a command and exits 0", async () => {
    const prefix = freshPrefix();
    const { stdout } = await promisify(execFile)("npx", [
      "tsx",
      "runtime/adapters/dynamodb/tables-cli.ts",
      "--endpoint",
      endpoint ?? "",
      "--prefix",
      prefix,
    ]);
    expect(stdout).toContain(`tables: done (${TABLE_KEYS.length} created, 0 already there)`);
  });

  it("stored items carry only the declared snake_case attributes, numbers as N", async () => {
    const prefix = freshPrefix();
    await ensureTables(client, prefix);
    const clock = new ManualClock();
    const ids = new IdFactory(clock);
    const messages = new DynamoMessageStore({ client, tablePrefix: prefix, clock });
    const chats = new DynamoChatStore({ client, tablePrefix: prefix, clock });
    const [chatId, userId] = [ids.chat(), ids.user()];
    const sequence = toSequence(1);
    const now = clock.now();
    await messages.appendBlock(chatId, [
      {
        chatId,
        sequence,
        messageId: ids.message(),
        senderId: userId,
        clientMessageId: "c1",
        content: "hi",
        contentType: "text/plain",
        createdAt: now,
      },
    ]);
    await messages.putIndexRecords([
      {
        chatId,
        clientMessageId: "c1",
        messageId: ids.message(),
        sequence,
        createdAt: now,
        expiresAt: now + 1500,
      },
    ]);
    await messages.advanceCounters(chatId, { highWater: 1 });
    await messages.compareAndSetIndexedThrough(chatId, 0, 1);
    await messages.advanceDeliveryState(userId, chatId, sequence);
    await chats.createChat({
      chatId,
      chatType: "group",
      name: "n",
      createdBy: userId,
      status: "active",
      memberCount: 1,
      createdAt: now,
      updatedAt: now,
    });
    await chats.addMembership({
      chatId,
      userId,
      role: "owner",
      joinedAt: now,
      updatedAt: now,
      mutedUntil: now,
    });
    const peer = ids.user();
    await chats.claimDirectChat(userId, peer, chatId);
    await new DynamoActivationStore({ client, tablePrefix: prefix }).hold({
      chatId,
      nodeId: "ingest-1",
      incarnation: "i1",
      activatedAt: now,
    });
    await new DynamoRingStore({ client, tablePrefix: prefix, clock }).write(0, [
      { nodeId: "ingest-1", weight: 100, state: "active" },
    ]);

    const keys: Record<TableKey, Item | undefined> = {
      messages: { chat_id: { S: chatId }, sequence: { N: "1" } },
      idempotency_keys: { chat_id: { S: chatId }, client_message_id: { S: "c1" } },
      chat_counters: { chat_id: { S: chatId } },
      delivery_state: { user_id: { S: userId }, chat_id: { S: chatId } },
      chats: { chat_id: { S: chatId } },
      chat_memberships: { chat_id: { S: chatId }, user_id: { S: userId } },
      direct_chat_index: { pair_key: { S: directPairKey(peer, userId) } },
      ring_config: { ring_id: { S: "default" } },
      actor_activations: { chat_id: { S: `${chatId}#ingest-1#i1` } },
      users: undefined,
      sessions: undefined,
      otp_requests: undefined,
      request_idempotency: undefined,
      rate_limits: undefined,
    };
    for (const key of TABLE_KEYS) {
      const itemKey = keys[key];
      // Users, sessions and OTP requests belong to other stores.
      if (itemKey === undefined) continue;
      const { Item: item } = await client.send(
        new GetItemCommand({ TableName: tableName(prefix, key), Key: itemKey, ConsistentRead: true }),
      );
      const definition = TABLES[key];
      const declared = [definition.partitionKey.name, definition.sortKey?.name, ...definition.attributes];
      expect(Object.keys(item ?? {}).sort()).toEqual(declared.filter((name) => name !== undefined).sort());
      for (const [name, value] of Object.entries(item ?? {})) {
        if (/(_at|_until|sequence|count|water|through|ttl)$/.test(name)) expect(value.N, name).toBeDefined();
      }
    }
    const stored = await client.send(
      new GetItemCommand({
        TableName: tableName(prefix, "idempotency_keys"),
        Key: keys.idempotency_keys ?? {},
      }),
    );
    // DynamoDB TTL counts in epoch seconds; rounding up never deletes a record before it expires.
    expect(stored.Item?.ttl).toEqual({ N: String(Math.ceil((now + 1500) / 1000)) });
  });

  it("an item of the per-message format reads as a block of one, marked legacy, among blocks (D16 rule 10)", async () => {
    const prefix = freshPrefix();
    await ensureTables(client, prefix);
    const clock = new ManualClock();
    const ids = new IdFactory(clock);
    const store = new DynamoMessageStore({ client, tablePrefix: prefix, clock });
    const chatId = ids.chat();
    const message = (sequence: number): StoredMessage => ({
      chatId,
      sequence: toSequence(sequence),
      messageId: ids.message(),
      senderId: ids.user(),
      clientMessageId: `client-${sequence}`,
      content: `message ${sequence}`,
      contentType: "text/plain",
      createdAt: clock.now() + sequence,
    });
    /** What the previous version wrote, spelled out here so that the test does not share the adapter's codec. */
    const putLegacy = (m: StoredMessage) =>
      client.send(
        new PutItemCommand({
          TableName: tableName(prefix, "messages"),
          Item: {
            chat_id: { S: m.chatId },
            sequence: { N: String(m.sequence) },
            message_id: { S: m.messageId },
            sender_id: { S: m.senderId },
            client_message_id: { S: m.clientMessageId },
            content: { S: m.content },
            content_type: { S: m.contentType },
            created_at: { N: String(m.createdAt) },
          },
        }),
      );
    const all = Array.from({ length: 8 }, (_, index) => message(index + 1));
    const range = (from: number, to: number) => all.slice(from - 1, to);
    const block = (from: number, to: number) => ({
      chatId,
      firstSequence: from,
      lastSequence: to,
      messages: range(from, to),
    });
    const legacy = (sequence: number) => ({ ...block(sequence, sequence), legacy: true });
    // Legacy items below, between and above blocks, as a table of the rolling upgrade holds them.
    await putLegacy(all[0] as StoredMessage);
    expect(await store.appendBlock(chatId, range(2, 3))).toBe("written");
    await putLegacy(all[3] as StoredMessage);
    await putLegacy(all[4] as StoredMessage);
    expect(await store.appendBlock(chatId, range(6, 7))).toBe("written");
    await putLegacy(all[7] as StoredMessage);

    expect(await store.readBlocksAfter(chatId, 0)).toEqual([
      legacy(1),
      block(2, 3),
      legacy(4),
      legacy(5),
      block(6, 7),
      legacy(8),
    ]);
    expect(await store.readBlocksAfter(chatId, 4)).toEqual([legacy(5), block(6, 7), legacy(8)]);
    expect(await store.readBlocksAfter(chatId, 6)).toEqual([block(6, 7), legacy(8)]);
    expect(await store.readTail(chatId)).toBe(8);
    expect(await store.readMessages(chatId, { limit: 100, order: "asc" })).toEqual(all);
    expect(await store.readMessages(chatId, { limit: 100, order: "desc" })).toEqual([...all].reverse());
    expect(await store.readMessages(chatId, { after: 2, before: 7, limit: 100, order: "asc" })).toEqual(
      range(3, 6),
    );
    expect(await store.readMessages(chatId, { after: 3, before: 7, limit: 2, order: "desc" })).toEqual([
      all[5],
      all[4],
    ]);
    for (const stored of all) expect(await store.getMessage(chatId, stored.sequence)).toEqual(stored);
    // A legacy item's key is taken like a block's (attribute_not_exists on the same key).
    expect(await store.appendBlock(chatId, [message(4)])).toBe("taken");
    expect(await store.appendBlock(chatId, [message(9)])).toBe("written");
    expect(await store.getMessage(chatId, toSequence(4))).toEqual(all[3]);
  });

  it("an index record already expired is never written (D16 rule 8), not only hidden from reads", async () => {
    const prefix = freshPrefix();
    await ensureTables(client, prefix);
    const clock = new ManualClock();
    const store = new DynamoMessageStore({ client, tablePrefix: prefix, clock });
    const ids = new IdFactory(clock);
    const chatId = ids.chat();
    const record = (clientMessageId: string, expiresAt: number) => ({
      chatId,
      clientMessageId,
      messageId: ids.message(),
      sequence: toSequence(1),
      createdAt: clock.now(),
      expiresAt,
    });
    await store.putIndexRecords([record("expired", clock.now() - 1), record("in-force", clock.now())]);
    const raw = (clientMessageId: string) =>
      client.send(
        new GetItemCommand({
          TableName: tableName(prefix, "idempotency_keys"),
          Key: { chat_id: { S: chatId }, client_message_id: { S: clientMessageId } },
          ConsistentRead: true,
        }),
      );
    expect((await raw("expired")).Item).toBeUndefined();
    expect((await raw("in-force")).Item).toBeDefined();
  });
});
