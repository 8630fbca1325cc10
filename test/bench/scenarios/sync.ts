import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BatchWriteItemCommand, type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import WebSocket from "ws";
import { INGEST_DEFAULTS } from "../../../actors/chat-sequencer/ingest-service.js";
import { type RunningPlatform, startPlatform } from "../../../app/platform.js";
import { createDynamoClient } from "../../../runtime/adapters/dynamodb/client.js";
import { type DynaliteServer, startDynalite } from "../../../runtime/adapters/dynamodb/dynalite-server.js";
import type { Item } from "../../../runtime/adapters/dynamodb/item-codec.js";
import { decodeBlock, encodeBlock } from "../../../runtime/adapters/dynamodb/message-items.js";
import { deleteTables, tableName } from "../../../runtime/adapters/dynamodb/tables.js";
import { SystemClock } from "../../../runtime/clock.js";
import { loadConfig } from "../../../runtime/config.js";
import { type ChatId, IdFactory, type Sequence, type UserId } from "../../../runtime/ids.js";
import { SYNC_MAX_LIMIT } from "../../../runtime/ingest-api.js";
import { createLogger } from "../../../runtime/logger.js";
import { uniqueName } from "../../support/engines.js";
import { devLogin, restAs } from "../../support/ws-peer.js";
import { percentile, round } from "../report.js";
import { type Figure, figure, type Scenario, type ScenarioContext } from "../scenario.js";

/**
 * Scenario 5: a client catching up on a long backlog. One chat holds 100,000 messages (20,000 with --quick); a
 * client connects over WebSocket to the embedded platform and reads them with the protocol's sync paging (500 per
 * page, the maximum), within the protocol's client limit of 5 sync_requests per second. Baseline: the same pages
 * read with raw DynamoDB Query through the same endpoint, measured before and after the client and averaged.
 *
 * The served rate counts the time the platform spent answering (the sum of page round trips); the client's
 * wall-clock rate also contains the waits the 5/s limit imposes, which cap it at 5 x 500 = 2,500 messages/s.
 */

/** Served at least this share of the raw paged Query rate of the same blocks. */
const TARGET_RATIO = 0.8;
const PAGE = SYNC_MAX_LIMIT;
/** Protocol §11: `sync_request` 5/s per connection (gateway/limits.ts); a client that sends more is refused. */
const SYNC_REQUESTS_PER_SECOND = 5;
const SEED_BATCH = 25; // BatchWriteItem's maximum
/** Messages per block, as the sequencer writes them by default (INGEST_DEFAULTS.blockMaxMessages). */
const BLOCK_MESSAGES = INGEST_DEFAULTS.blockMaxMessages;
const SEED_IN_FLIGHT = 8;
const CONTENT =
  "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group. ".repeat(2);

export interface ServerFrame {
  readonly type: string;
  readonly request_id?: string;
  readonly payload: Record<string, unknown>;
}

/** A bare protocol client: request/response by request_id, answers resolved the moment they arrive. */
export class ProtocolClient {
  private readonly waiting = new Map<
    string,
    { resolve: (frame: ServerFrame) => void; fail: (error: Error) => void }
  >();
  /** Why the socket closed (close code and reason), once it did. */
  closed: string | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const id = frame.request_id ?? (frame.type === "connection_established" ? "established" : undefined);
      if (id === undefined) return;
      this.waiting.get(id)?.resolve(frame);
      this.waiting.delete(id);
    });
    // Requests waiting on a closed socket will never be answered: they fail at once.
    socket.on("close", (code, reason) => {
      this.closed = `${code} ${reason.toString()}`.trim();
      const error = new Error(`connection closed (${this.closed})`);
      for (const waiter of this.waiting.values()) waiter.fail(error);
      this.waiting.clear();
    });
  }

  static async connect(baseUrl: string, token: string, deviceId: string): Promise<ProtocolClient> {
    const url = `${baseUrl.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(token)}&device_id=${encodeURIComponent(deviceId)}`;
    const socket = new WebSocket(url);
    const client = new ProtocolClient(socket);
    const established = client.answerTo("established");
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    await established;
    return client;
  }

  private answerTo(requestId: string): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      if (this.closed !== undefined) return reject(new Error(`connection closed (${this.closed})`));
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new Error(`no answer to ${requestId} within 30 s`));
      }, 30_000);
      this.waiting.set(requestId, {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  request(type: string, payload: Record<string, unknown>): Promise<ServerFrame> {
    const requestId = randomUUID();
    const answer = this.answerTo(requestId);
    this.socket.send(JSON.stringify({ type, request_id: requestId, payload }));
    return answer;
  }

  notify(type: string, payload: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ type, payload }));
  }

  close(): void {
    this.socket.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const phone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/**
 * Writes the backlog as the sequencer stores it (D16): blocks of BLOCK_MESSAGES messages in the message store's
 * own item encoding, `SEED_BATCH` blocks per BatchWriteItem.
 */
async function seed(
  client: DynamoDBClient,
  table: string,
  chatId: ChatId,
  senderId: UserId,
  count: number,
  progress: (line: string) => void,
): Promise<void> {
  const ids = new IdFactory(new SystemClock());
  const blocks = Math.ceil(count / BLOCK_MESSAGES);
  const batches = Math.ceil(blocks / SEED_BATCH);
  let next = 0;
  let written = 0;
  const ticker = setInterval(() => progress(`  seeding: ${written} of ${count}`), 2_000);
  const blockAt = (block: number) => {
    const first = block * BLOCK_MESSAGES + 1;
    const messages = Array.from({ length: Math.min(BLOCK_MESSAGES, count - first + 1) }, (_, i) => ({
      chatId,
      sequence: (first + i) as Sequence,
      messageId: ids.message(),
      senderId,
      clientMessageId: randomUUID(),
      content: CONTENT,
      contentType: "text/plain" as const,
      createdAt: Date.now(),
    }));
    return { PutRequest: { Item: encodeBlock(chatId, messages) }, messages: messages.length };
  };
  try {
    await Promise.all(
      Array.from({ length: SEED_IN_FLIGHT }, async () => {
        for (let batch = next++; batch < batches; batch = next++) {
          const first = batch * SEED_BATCH;
          let requests = Array.from({ length: Math.min(SEED_BATCH, blocks - first) }, (_, i) =>
            blockAt(first + i),
          );
          // Unprocessed items (throttling) are written again until none is left.
          for (let attempt = 0; requests.length > 0; attempt++) {
            if (attempt > 20) throw new Error("seeding: BatchWriteItem keeps leaving items unprocessed");
            const out = await client.send(
              new BatchWriteItemCommand({
                RequestItems: { [table]: requests.map(({ PutRequest }) => ({ PutRequest })) },
              }),
            );
            const left = new Set(
              (out.UnprocessedItems?.[table] ?? []).map((r) => r.PutRequest?.Item?.sequence?.N),
            );
            const done = requests.filter((r) => !left.has(r.PutRequest.Item.sequence?.N));
            written += done.reduce((sum, r) => sum + r.messages, 0);
            requests = requests.filter((r) => left.has(r.PutRequest.Item.sequence?.N));
            if (requests.length > 0) await sleep(20 * (attempt + 1));
          }
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
}

/** The baseline: every message of the chat by raw paged Query, `PAGE` per page, one page after another. */
async function rawPagedQuery(client: DynamoDBClient, table: string, chatId: ChatId, expected: number) {
  const pageMs: number[] = [];
  let after = 0;
  let count = 0;
  const t0 = performance.now();
  while (count < expected) {
    const t = performance.now();
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#chat_id = :chat AND #sequence > :after",
        ExpressionAttributeNames: { "#chat_id": "chat_id", "#sequence": "sequence" },
        ExpressionAttributeValues: { ":chat": { S: chatId }, ":after": { N: String(after) } },
        Limit: PAGE / BLOCK_MESSAGES,
        ConsistentRead: true,
      }),
    );
    pageMs.push(performance.now() - t);
    const items: Item[] = out.Items ?? [];
    if (items.length === 0) break;
    // Each item is a block: its messages are decoded, as the store's reads do.
    const blocks = items.map(decodeBlock);
    count += blocks.reduce((sum, block) => sum + block.messages.length, 0);
    after = blocks.at(-1)?.lastSequence ?? after;
  }
  if (count !== expected) throw new Error(`raw query read ${count} messages, expected ${expected}`);
  const elapsedMs = performance.now() - t0;
  return { rate: (count * 1000) / elapsedMs, pageMs: pageMs.sort((a, b) => a - b) };
}

interface CatchUp {
  readonly received: number;
  readonly pages: number;
  readonly rateLimited: number;
  readonly wallMs: number;
  /** Round trip of each page, ascending. */
  readonly pageMs: number[];
}

/**
 * Reads the whole chat as a reconnecting client does, checking that the sequences arrive complete and in
 * order, at most `SYNC_REQUESTS_PER_SECOND` requests in any second.
 */
async function catchUp(
  client: ProtocolClient,
  chatId: ChatId,
  expected: number,
  progress: (line: string) => void,
): Promise<CatchUp> {
  const sentAt: number[] = [];
  const pageMs: number[] = [];
  let cursor = 0;
  let rateLimited = 0;
  const t0 = performance.now();
  const ticker = setInterval(() => progress(`  catching up: ${cursor} of ${expected}`), 2_000);
  try {
    for (;;) {
      const window = sentAt.at(-SYNC_REQUESTS_PER_SECOND);
      if (window !== undefined) await sleep(window + 1_000 - performance.now());
      const t = performance.now();
      sentAt.push(t);
      const answer = await client.request("sync_request", {
        chat_id: chatId,
        last_acked_sequence: cursor,
        limit: PAGE,
      });
      if (answer.type === "error") {
        const error = answer.payload as { code?: string; details?: { retry_after_seconds?: number } };
        if (error.code !== "RATE_LIMITED" || rateLimited > 100) {
          throw new Error(`sync refused: ${JSON.stringify(answer.payload)}`);
        }
        rateLimited++;
        await sleep(1_000 * (error.details?.retry_after_seconds ?? 1));
        continue;
      }
      pageMs.push(performance.now() - t);
      const messages = answer.payload.messages as Array<{ sequence: number }>;
      for (const message of messages) {
        if (message.sequence !== cursor + 1) {
          throw new Error(
            `sync returned sequence ${message.sequence} after ${cursor}: not complete and in order`,
          );
        }
        cursor = message.sequence;
      }
      if (answer.payload.has_more !== true) break;
      if (messages.length === 0) throw new Error("sync said has_more with an empty page");
    }
  } finally {
    clearInterval(ticker);
  }
  const wallMs = performance.now() - t0;
  if (cursor !== expected) throw new Error(`sync ended at ${cursor}, expected ${expected}`);
  // A client acknowledges the top sequence after a sync (protocol §9).
  client.notify("ack", { chat_id: chatId, sequence: cursor });
  return {
    received: cursor,
    pages: pageMs.length,
    rateLimited,
    wallMs,
    pageMs: pageMs.sort((a, b) => a - b),
  };
}

async function run(context: ScenarioContext) {
  const say = context.progress;
  const backlog = context.quick ? 20_000 : 100_000;
  const external = context.env.DYNAMODB_ENDPOINT;
  const dynalite: DynaliteServer | undefined =
    external === undefined ? await startDynalite({ progress: say }) : undefined;
  const endpoint = external ?? dynalite?.endpoint ?? "";
  const prefix = uniqueName("bench_sync_");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-sync-"));
  const raw = createDynamoClient({ endpoint, region: "us-east-1" });
  const table = tableName(prefix, "messages");
  let platform: RunningPlatform | undefined;
  let client: ProtocolClient | undefined;
  try {
    say(`embedded platform on DynamoDB at ${endpoint}`);
    platform = await startPlatform(
      loadConfig({
        env: {
          HOST: "127.0.0.1",
          PORT: "0",
          DYNAMODB_ENDPOINT: endpoint,
          TABLE_PREFIX: prefix,
          NODE_ID: uniqueName("bench-sync-"),
          DATA_DIR: dataDir,
          LOG_LEVEL: "silent",
          // Traces sampled as in production (spec §3: 1%), not every one as an idle embedded platform does.
          TRACING_SAMPLE_RATIO: "0.01",
        },
      }),
      createLogger({ level: "silent" }),
      new SystemClock(),
    );
    const alice = await devLogin(platform.baseUrl, phone(), "alice-laptop");
    const bob = await devLogin(platform.baseUrl, phone(), "bob-phone");
    const chatId = (
      await restAs<{ chat_id: string }>(platform.baseUrl, alice.accessToken, "POST", "/api/v1/chats", {
        type: "direct",
        member_ids: [bob.userId],
      })
    ).chat_id as ChatId;

    say(
      `seeding ${backlog.toLocaleString("en-US")} messages into one chat (blocks of ${BLOCK_MESSAGES}, BatchWriteItem, ${SEED_BATCH} blocks per request)`,
    );
    const seedStart = performance.now();
    await seed(raw, table, chatId, bob.userId as UserId, backlog, say);
    // The chat's counters move to the tail, as its sequencer leaves them after persisting and publishing:
    // activation then finds the tail at once and has nothing to republish (D4).
    await platform.adapters.messageStore.advanceCounters(chatId, {
      highWater: backlog,
      publishedThrough: backlog,
    });
    // And indexed_through: activation reads only the blocks above it. The chat never gets a send in this
    // scenario, so its index (which only answers retries) is not written.
    await platform.adapters.messageStore.compareAndSetIndexedThrough(chatId, 0, backlog);
    const seedMs = performance.now() - seedStart;
    say(`seeded in ${(seedMs / 1000).toFixed(1)} s (${Math.round((backlog * 1000) / seedMs)} msg/s)`);

    say(`baseline: raw paged Query, ${PAGE} per page`);
    const rawBefore = await rawPagedQuery(raw, table, chatId, backlog);
    say(`raw Query: ${Math.round(rawBefore.rate)} msg/s`);

    say(
      `client: sync_request pages of ${PAGE} over WebSocket, at most ${SYNC_REQUESTS_PER_SECOND} per second`,
    );
    client = await ProtocolClient.connect(platform.baseUrl, alice.accessToken, "alice-laptop");
    const caught = await catchUp(client, chatId, backlog, say);
    const servedMs = caught.pageMs.reduce((sum, ms) => sum + ms, 0);
    const served = (caught.received * 1000) / servedMs;
    const wallRate = (caught.received * 1000) / caught.wallMs;
    say(
      `client caught up on ${caught.received} messages in ${(caught.wallMs / 1000).toFixed(1)} s (${Math.round(wallRate)} msg/s); ` +
        `served ${Math.round(served)} msg/s over ${caught.pages} pages`,
    );

    const rawAfter = await rawPagedQuery(raw, table, chatId, backlog);
    say(`raw Query again: ${Math.round(rawAfter.rate)} msg/s`);
    const rawRate = (rawBefore.rate + rawAfter.rate) / 2;
    const rawPages = [...rawBefore.pageMs, ...rawAfter.pageMs].sort((a, b) => a - b);
    const rawLabel = `raw paged Query, ${PAGE} per page`;

    const figures: Figure[] = [
      figure({
        name: "sync.catch_up.served",
        value: round(served),
        unit: "msg/s",
        baseline: round(rawRate),
        baselineLabel: rawLabel,
        target: `>= ${TARGET_RATIO} x baseline`,
        met: served >= TARGET_RATIO * rawRate,
      }),
      figure({
        name: "sync.catch_up.client_wall_clock",
        value: round(wallRate),
        unit: "msg/s",
        baseline: null,
        baselineLabel: "",
        target: null,
      }),
      ...(["p50", "p99"] as const).map((name) => {
        const q = name === "p50" ? 0.5 : 0.99;
        return figure({
          name: `sync.page_${name}`,
          value: round(percentile(caught.pageMs, q), 2),
          unit: "ms",
          baseline: round(percentile(rawPages, q), 2),
          baselineLabel: rawLabel,
          target: null,
        });
      }),
      figure({
        name: "sync.seed.throughput",
        value: round((backlog * 1000) / seedMs),
        unit: "msg/s",
        baseline: null,
        baselineLabel: "",
        target: null,
      }),
      figure({
        name: "sync.seed.duration",
        value: round(seedMs / 1000, 2),
        unit: "s",
        baseline: null,
        baselineLabel: "",
        target: null,
      }),
    ];
    return {
      figures,
      details: {
        backlog,
        pageSize: PAGE,
        pages: caught.pages,
        rateLimitedAnswers: caught.rateLimited,
        clientWallMs: Math.round(caught.wallMs),
        servedMs: Math.round(servedMs),
        protocolCapMsgPerS: SYNC_REQUESTS_PER_SECOND * PAGE,
        rawQueryMsgPerSBeforeAfter: [round(rawBefore.rate), round(rawAfter.rate)],
        dynamodb: external ?? "dynalite in this process, in memory",
        seeding: `blocks of ${BLOCK_MESSAGES} messages in the message store's item encoding, BatchWriteItem of ${SEED_BATCH} blocks, ${SEED_IN_FLIGHT} in flight; counters and indexed_through raised to the tail`,
      },
    };
  } finally {
    client?.close();
    await platform?.stop(0);
    await deleteTables(raw, prefix).catch(() => {});
    raw.destroy();
    await dynalite?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: "sync",
  title: "Sync: messages/s served to a client catching up on a 100,000-message backlog, vs raw paged Query",
  engines: ["dynamodb"],
  run,
};
