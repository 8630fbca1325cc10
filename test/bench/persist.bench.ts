import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { type DynaliteServer, startDynalite } from "../../runtime/adapters/dynamodb/dynalite-server.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { deleteTables, ensureTables, tableName } from "../../runtime/adapters/dynamodb/tables.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { SystemClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { TOPICS } from "../../runtime/topics.js";
import { createActiveChat } from "../support/chats.js";
import { uniqueName } from "../support/engines.js";

/**
 * `npm run bench:persist`: what persisting a message costs compared with the raw conditional PutItem it is
 * built on (ARCHITECTURE.md §7), measured in one run against one dynalite, so the ratio holds on any machine.
 * The event log is the in-process one: the numbers measure persistence (DynamoDB + sequencer), not Kafka.
 */

const HOT_IN_FLIGHT = 32;
const MANY_IN_FLIGHT = 64;
const CHATS = 1_000;
const TARGET_RATIO = 0.45;
const TARGET_HOT_MSG_PER_S = 200;
const HELP = `Usage: npm run bench:persist [-- --quick] [-- --out <file.json>]

Measures, against one dynalite (in this process, in memory, unless DYNAMODB_ENDPOINT is set):
  raw conditional PutItem (attribute_not_exists, message-sized items) at concurrency 1, ${HOT_IN_FLIGHT} and ${MANY_IN_FLIGHT};
  IngestService.persist (SystemClock, in-process event log) for one hot chat and for ${CHATS} chats;
  DynamoDB requests per persisted message, by operation and table.
Targets: all chats together >= ${TARGET_RATIO * 100}% of the raw conditional-put rate; one hot chat >= ${TARGET_HOT_MSG_PER_S} msg/s.

  --quick        3 s per figure instead of 10 s
  --out <file>   JSON report (default test-results/bench-persist.json)
  --help         this text`;

/** A typical chat line; the raw baseline writes items of the same shape and size. */
const CONTENT =
  "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group. ".repeat(2);

interface Result {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly target: string | null;
  readonly met: boolean | null;
}

interface Window {
  readonly count: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Milliseconds per operation, ascending. */
  readonly latenciesMs: number[];
  /** Event-loop utilisation over the window: near 1 means this process's CPU is the bottleneck. */
  readonly busy: number;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);
const say = (line: string) => console.log(`[bench] ${line}`);
const rate = (window: Window) => (window.count * 1000) / window.elapsedMs;
const percentile = (sorted: readonly number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0);
const QUANTILES = { p50: 0.5, p99: 0.99, p999: 0.999 } as const;
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Runs `operation` from `inFlight` workers until `durationMs` has passed (each worker finishes the call it is in),
 * printing progress every 2 s. Failed calls are counted, not timed.
 */
async function measure(
  label: string,
  durationMs: number,
  inFlight: number,
  operation: (worker: number) => Promise<unknown>,
): Promise<Window> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + durationMs;
  const loopAtStart = performance.eventLoopUtilization();
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    say(`  ${label}: ${seconds.toFixed(0)} s, ${latenciesMs.length} ok, ${errors} failed`);
  }, 2_000);
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async (_, worker) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            await operation(worker);
            latenciesMs.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  return {
    count: latenciesMs.length,
    errors,
    elapsedMs: performance.now() - started,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    busy: performance.eventLoopUtilization(loopAtStart).utilization,
  };
}

/** Runs `work` once per item, `inFlight` at a time. */
async function eachLimited<T>(items: readonly T[], inFlight: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
    }),
  );
}

/** Counts every request the stores send, by operation and table, so a run can tell requests per message. */
function countRequests(client: DynamoDBClient, prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  const send = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const counted = (command: unknown, ...rest: unknown[]) => {
    const operation = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, "");
    const table = String((command as { input?: { TableName?: string } }).input?.TableName ?? "").replace(
      prefix,
      "",
    );
    const key = `${operation} ${table}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return send(command, ...rest);
  };
  client.send = counted as typeof client.send;
  return counts;
}

function parseArgs(argv: readonly string[]): { quick: boolean; out: string } {
  const args = argv.filter((arg) => arg !== "--");
  if (args.includes("--help")) {
    console.log(HELP);
    process.exit(0);
  }
  const outAt = args.indexOf("--out");
  const out = outAt >= 0 ? args[outAt + 1] : join(ROOT, "test-results", "bench-persist.json");
  const known = new Set(["--quick", "--out", out]);
  const unknown = args.filter((arg) => !known.has(arg));
  if (out === undefined || out.startsWith("--") || unknown.length > 0) {
    console.error(`unknown or incomplete arguments: ${unknown.join(" ") || "--out needs a file"}\n\n${HELP}`);
    process.exit(2);
  }
  return { quick: args.includes("--quick"), out };
}

async function main(): Promise<void> {
  const { quick, out } = parseArgs(process.argv.slice(2));
  const durationMs = quick ? 3_000 : 10_000;
  const warmupMs = quick ? 1_000 : 2_000;
  const external = process.env.DYNAMODB_ENDPOINT;
  const dynalite: DynaliteServer | undefined =
    external === undefined ? await startDynalite({ progress: say }) : undefined;
  const endpoint = external ?? dynalite?.endpoint ?? "";
  if (external !== undefined) say(`using DYNAMODB_ENDPOINT ${external}`);
  say(
    `${quick ? "quick" : "full"} run: ${durationMs / 1000} s per figure after ${warmupMs / 1000} s warm-up`,
  );
  say("event log: in-process (the figures measure persistence, not Kafka)");

  const clock = new SystemClock();
  const ids = new IdFactory(clock);
  const prefix = uniqueName("bench");
  const client = createDynamoClient({ endpoint, region: "us-east-1" });
  const rawClient = createDynamoClient({ endpoint, region: "us-east-1" });
  await ensureTables(client, prefix);
  const messageStore = new DynamoMessageStore({ client, tablePrefix: prefix, clock });
  const chatStore = new DynamoChatStore({ client, tablePrefix: prefix, clock });
  const eventLog = new InProcessEventLog({ clock });
  await eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 8 }]);
  const ingest = new IngestService({
    messageStore,
    chatStore,
    eventLog,
    clock,
    ids,
    logger: createLogger({ level: "silent" }),
    producerId: "bench",
  });
  const results: Result[] = [];
  const info = (name: string, value: number, unit: string) => {
    results.push({
      name,
      value: round(value, 2),
      unit,
      baseline: null,
      ratio: null,
      target: null,
      met: null,
    });
  };
  /** A persist rate against the raw put rate at the same concurrency. */
  const compared = (name: string, msgPerS: number, rawPerS: number, target: string, met: boolean) => {
    const figure = { name, value: round(msgPerS), unit: "msg/s", baseline: round(rawPerS) };
    results.push({ ...figure, ratio: round(msgPerS / rawPerS, 3), target, met });
  };

  try {
    // Baseline: the conditional put every message costs at least once, with the same SDK client settings;
    // a fresh key per put, as every message has its own (chat_id, sequence).
    const messagesTable = tableName(prefix, "messages");
    const put = () =>
      rawClient.send(
        new PutItemCommand({
          TableName: messagesTable,
          Item: {
            chat_id: { S: ids.chat() },
            sequence: { N: "1" },
            message_id: { S: ids.message() },
            sender_id: { S: ids.user() },
            client_message_id: { S: randomUUID() },
            content: { S: CONTENT },
            content_type: { S: "text/plain" },
            created_at: { N: String(clock.now()) },
          },
          ConditionExpression: "attribute_not_exists(#chat_id)",
          ExpressionAttributeNames: { "#chat_id": "chat_id" },
        }),
      );
    const raw = new Map<number, number>();
    for (const inFlight of [1, HOT_IN_FLIGHT, MANY_IN_FLIGHT]) {
      say(`raw conditional PutItem, ${inFlight} in flight: warm-up`);
      await measure("warm-up", warmupMs, inFlight, put);
      const window = await measure(`raw c=${inFlight}`, durationMs, inFlight, put);
      raw.set(inFlight, rate(window));
      say(`raw c=${inFlight}: ${rate(window).toFixed(0)} put/s, ${window.errors} failed`);
      info(`raw conditional put c=${inFlight}`, rate(window), "put/s");
      for (const [name, q] of Object.entries(QUANTILES)) {
        info(`raw put c=${inFlight} latency ${name}`, percentile(window.latenciesMs, q), "ms");
      }
      info(`raw put c=${inFlight} event loop busy`, window.busy * 100, "%");
    }

    /**
     * The baseline of a scenario: the raw rate measured before it and again right after it, averaged. This
     * machine's speed drifts (other work, thermal limits); bracketing cancels most of the drift that one
     * measurement at the start would put into the ratio.
     */
    const bracketed = async (inFlight: number): Promise<number> => {
      const before = raw.get(inFlight) ?? Number.NaN;
      const after = rate(await measure(`raw c=${inFlight} again`, durationMs, inFlight, put));
      say(`raw c=${inFlight}: ${before.toFixed(0)} put/s before, ${after.toFixed(0)} put/s after`);
      info(`raw conditional put c=${inFlight}, after the scenario`, after, "put/s");
      return (before + after) / 2;
    };

    // Test data straight through the chat store: an active chat and its members.
    const createChat = (members: readonly UserId[]): Promise<ChatId> =>
      createActiveChat(chatStore, { ids, clock }, members, "bench");
    const persist = (chatId: ChatId, senderId: UserId) =>
      ingest.persist({
        chatId,
        senderId,
        clientMessageId: randomUUID(),
        content: CONTENT,
        contentType: "text/plain",
      });
    const requests = countRequests(client, prefix);

    const scenario = async (
      label: string,
      inFlight: number,
      warmUp: () => Promise<void>,
      send: (worker: number) => Promise<unknown>,
    ): Promise<Window> => {
      say(`${label}: warm-up`);
      await warmUp();
      requests.clear();
      const window = await measure(label, durationMs, inFlight, send);
      say(`${label}: ${rate(window).toFixed(0)} msg/s, ${window.errors} failed`);
      const total = [...requests.values()].reduce((sum, n) => sum + n, 0);
      info(`${label}: event loop busy`, window.busy * 100, "%");
      info(`${label}: DynamoDB requests/s`, (total * 1000) / window.elapsedMs, "req/s");
      info(`${label}: DynamoDB requests per message`, total / Math.max(1, window.count), "req/msg");
      for (const [key, n] of [...requests].sort((a, b) => b[1] - a[1])) {
        info(`${label}:   ${key}`, n / Math.max(1, window.count), "req/msg");
      }
      for (const [name, q] of Object.entries(QUANTILES)) {
        info(`${label}: ACK latency ${name}`, percentile(window.latenciesMs, q), "ms");
      }
      return window;
    };

    // One hot chat: every sender of the group at once, so the chat's mailbox always has a batch waiting.
    const hotMembers = Array.from({ length: HOT_IN_FLIGHT }, () => ids.user());
    const hotChat = await createChat(hotMembers);
    const hotSend = (worker: number) => persist(hotChat, hotMembers[worker % hotMembers.length] as UserId);
    const hot = await scenario(
      "1 hot chat",
      HOT_IN_FLIGHT,
      async () => void (await measure("warm-up", warmupMs, HOT_IN_FLIGHT, hotSend)),
      hotSend,
    );
    const hotRaw = await bracketed(HOT_IN_FLIGHT);
    const hotRate = rate(hot);
    const hotTarget = `>= ${TARGET_HOT_MSG_PER_S} msg/s`;
    compared("persist, 1 hot chat", hotRate, hotRaw, hotTarget, hotRate >= TARGET_HOT_MSG_PER_S);

    // 1,000 chats of two members; the warm-up activates every sequencer with one send each.
    say(`creating ${CHATS} chats`);
    const chats: Array<{ chatId: ChatId; members: UserId[] }> = [];
    await eachLimited(Array.from({ length: CHATS }), MANY_IN_FLIGHT, async () => {
      const members = [ids.user(), ids.user()];
      chats.push({ chatId: await createChat(members), members });
    });
    const manySend = () => {
      const { chatId, members } = chats[Math.floor(Math.random() * chats.length)] as (typeof chats)[number];
      return persist(chatId, members[Math.floor(Math.random() * members.length)] as UserId);
    };
    const many = await scenario(
      `${CHATS} chats`,
      MANY_IN_FLIGHT,
      () => eachLimited(chats, MANY_IN_FLIGHT, (chat) => persist(chat.chatId, chat.members[0] as UserId)),
      manySend,
    );
    const manyRaw = await bracketed(MANY_IN_FLIGHT);
    const manyRate = rate(many);
    const ratioTarget = `>= ${TARGET_RATIO * 100}% of raw put/s`;
    compared(`persist, ${CHATS} chats`, manyRate, manyRaw, ratioTarget, manyRate / manyRaw >= TARGET_RATIO);
  } finally {
    await ingest.shutdown().catch(() => {});
    await eventLog.close();
    await deleteTables(client, prefix).catch(() => {});
    client.destroy();
    rawClient.destroy();
    await dynalite?.stop();
  }

  printTable(results);
  const report = {
    machine: { cpus: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` },
    versions: {
      dynalite: versionOf("dynalite"),
      "@aws-sdk/client-dynamodb": versionOf("@aws-sdk/client-dynamodb"),
    },
    setup: {
      mode: quick ? "quick" : "full",
      durationMs,
      warmupMs,
      dynamodb: external === undefined ? "dynalite in this process, in memory" : external,
      eventLog: "in-process",
      hotInFlight: HOT_IN_FLIGHT,
      manyInFlight: MANY_IN_FLIGHT,
      chats: CHATS,
    },
    results,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  say(`report written to ${out}`);
}

function printTable(results: readonly Result[]): void {
  const cell = (value: unknown) => (value === null || value === undefined ? "" : String(value));
  const rows = [
    ["figure", "value", "baseline", "ratio", "target", "met"],
    ...results.map((r) => [
      r.name,
      `${r.value} ${r.unit}`,
      cell(r.baseline),
      cell(r.ratio),
      cell(r.target),
      r.met === null ? "" : r.met ? "met" : "MISS",
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  for (const row of rows)
    console.log(row.map((value, column) => value.padEnd(widths[column] ?? 0)).join("  "));
}

await main();
