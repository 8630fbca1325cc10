import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { IngestService } from "../../../actors/chat-sequencer/ingest-service.js";
import { DynamoChatStore } from "../../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../../runtime/adapters/dynamodb/client.js";
import { type DynaliteServer, startDynalite } from "../../../runtime/adapters/dynamodb/dynalite-server.js";
import { DynamoMessageStore } from "../../../runtime/adapters/dynamodb/message-store.js";
import { deleteTables, ensureTables, tableName } from "../../../runtime/adapters/dynamodb/tables.js";
import { InProcessEventLog } from "../../../runtime/adapters/memory/event-log.js";
import { SystemClock } from "../../../runtime/clock.js";
import { type ChatId, IdFactory, type UserId } from "../../../runtime/ids.js";
import { createLogger } from "../../../runtime/logger.js";
import { TOPICS } from "../../../runtime/topics.js";
import { createActiveChat } from "../../support/chats.js";
import { uniqueName } from "../../support/engines.js";
import { percentile, round } from "../report.js";
import { type Figure, figure, type Scenario, type ScenarioContext } from "../scenario.js";

/**
 * Scenario 1: what persisting a message costs compared with the raw conditional PutItem it is built on
 * (ARCHITECTURE.md §7), measured in one run against one DynamoDB endpoint, so the ratio holds on any machine.
 * The event log is the in-process one: the figures measure persistence (DynamoDB + sequencer), not Kafka.
 */

const HOT_IN_FLIGHT = 32;
const MANY_IN_FLIGHT = 64;
const CHATS = 1_000;
const TARGET_RATIO = 0.45;
const TARGET_HOT_MSG_PER_S = 200;
const RAW_LABEL = "raw conditional PutItem";

/** A typical chat line; the raw baseline writes items of the same shape and size. */
const CONTENT =
  "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group. ".repeat(2);

interface Window {
  readonly count: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Milliseconds per operation, ascending. */
  readonly latenciesMs: number[];
  /** Event-loop utilisation over the window: near 1 means this process's CPU is the bottleneck. */
  readonly busy: number;
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

const rate = (window: Window) => (window.count * 1000) / window.elapsedMs;
const QUANTILES = { p50: 0.5, p99: 0.99, p999: 0.999 } as const;

/**
 * Runs `operation` from `inFlight` workers until `durationMs` has passed (each worker finishes the call it is in),
 * with a progress line every 2 s. Failed calls are counted, not timed.
 */
async function measure(
  progress: (line: string) => void,
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
  const ticker = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    progress(`  ${label}: ${seconds.toFixed(0)} s, ${latenciesMs.length} ok, ${errors} failed`);
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
    clearInterval(ticker);
  }
  return {
    count: latenciesMs.length,
    errors,
    elapsedMs: performance.now() - started,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    busy: performance.eventLoopUtilization(loopAtStart).utilization,
  };
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

async function run(context: ScenarioContext) {
  const say = context.progress;
  const durationMs = context.quick ? 3_000 : 10_000;
  const warmupMs = context.quick ? 1_000 : 2_000;
  const external = context.env.DYNAMODB_ENDPOINT;
  const dynalite: DynaliteServer | undefined =
    external === undefined ? await startDynalite({ progress: say }) : undefined;
  const endpoint = external ?? dynalite?.endpoint ?? "";
  say(`${durationMs / 1000} s per figure after ${warmupMs / 1000} s warm-up, DynamoDB at ${endpoint}`);

  const clock = new SystemClock();
  const ids = new IdFactory(clock);
  const prefix = uniqueName("bench_persist_");
  const client = createDynamoClient({ endpoint, region: "us-east-1" });
  const rawClient = createDynamoClient({ endpoint, region: "us-east-1" });
  const messageStore = new DynamoMessageStore({ client, tablePrefix: prefix, clock });
  const chatStore = new DynamoChatStore({ client, tablePrefix: prefix, clock });
  const eventLog = new InProcessEventLog({ clock });
  const ingest = new IngestService({
    messageStore,
    chatStore,
    eventLog,
    clock,
    ids,
    logger: createLogger({ level: "silent" }),
    producerId: "bench",
  });
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {
    durationMs,
    warmupMs,
    dynamodb: external ?? "dynalite in this process, in memory",
    eventLog: "in-process",
    hotInFlight: HOT_IN_FLIGHT,
    manyInFlight: MANY_IN_FLIGHT,
    chats: CHATS,
  };
  const info = (name: string, value: number, unit: string, baseline: number | null = null) =>
    figures.push(
      figure({
        name,
        value: round(value, 2),
        unit,
        baseline: baseline === null ? null : round(baseline, 2),
        baselineLabel: baseline === null ? "" : RAW_LABEL,
        target: null,
      }),
    );

  try {
    await ensureTables(client, prefix);
    await eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 8 }]);
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
    const raw = new Map<number, Window>();
    for (const inFlight of [1, HOT_IN_FLIGHT, MANY_IN_FLIGHT]) {
      say(`raw conditional PutItem, ${inFlight} in flight: warm-up`);
      await measure(say, "warm-up", warmupMs, inFlight, put);
      const window = await measure(say, `raw c=${inFlight}`, durationMs, inFlight, put);
      raw.set(inFlight, window);
      say(`raw c=${inFlight}: ${rate(window).toFixed(0)} put/s, ${window.errors} failed`);
      info(`persist.raw_put.c${inFlight}.throughput`, rate(window), "put/s");
      details[`raw c=${inFlight} event loop busy %`] = round(window.busy * 100);
    }

    /**
     * The baseline of a scenario: the raw rate measured before it and again right after it, averaged. This
     * machine's speed drifts (other work, thermal limits); bracketing cancels most of the drift that one
     * measurement at the start would put into the ratio.
     */
    const bracketed = async (inFlight: number): Promise<number> => {
      const before = rate(raw.get(inFlight) as Window);
      const after = rate(await measure(say, `raw c=${inFlight} again`, durationMs, inFlight, put));
      say(`raw c=${inFlight}: ${before.toFixed(0)} put/s before, ${after.toFixed(0)} put/s after`);
      details[`raw c=${inFlight} put/s before, after`] = [round(before), round(after)];
      return (before + after) / 2;
    };

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

    const phase = async (
      key: string,
      label: string,
      inFlight: number,
      warmUp: () => Promise<unknown>,
      send: (worker: number) => Promise<unknown>,
    ): Promise<Window> => {
      say(`${label}: warm-up`);
      await warmUp();
      requests.clear();
      const window = await measure(say, label, durationMs, inFlight, send);
      say(`${label}: ${rate(window).toFixed(0)} msg/s, ${window.errors} failed`);
      const total = [...requests.values()].reduce((sum, n) => sum + n, 0);
      const perMessage = (n: number) => round(n / Math.max(1, window.count), 2);
      details[label] = {
        errors: window.errors,
        eventLoopBusyPercent: round(window.busy * 100),
        dynamodbRequestsPerSecond: round((total * 1000) / window.elapsedMs),
        dynamodbRequestsPerMessage: perMessage(total),
        byOperation: Object.fromEntries(
          [...requests].sort((a, b) => b[1] - a[1]).map(([operation, n]) => [operation, perMessage(n)]),
        ),
      };
      info(`persist.${key}.requests_per_message`, total / Math.max(1, window.count), "req/msg");
      const rawLatencies = (raw.get(inFlight) as Window).latenciesMs;
      for (const [name, q] of Object.entries(QUANTILES)) {
        info(
          `persist.${key}.ack_${name}`,
          percentile(window.latenciesMs, q),
          "ms",
          percentile(rawLatencies, q),
        );
      }
      return window;
    };

    // One hot chat: every sender of the group at once, so the chat's mailbox always has a batch waiting.
    const hotMembers = Array.from({ length: HOT_IN_FLIGHT }, () => ids.user());
    const hotChat = await createChat(hotMembers);
    const hotSend = (worker: number) => persist(hotChat, hotMembers[worker % hotMembers.length] as UserId);
    const hot = await phase(
      "hot_chat",
      "1 hot chat",
      HOT_IN_FLIGHT,
      () => measure(say, "warm-up", warmupMs, HOT_IN_FLIGHT, hotSend),
      hotSend,
    );
    const hotRate = rate(hot);
    figures.push(
      figure({
        name: "persist.hot_chat.throughput",
        value: round(hotRate),
        unit: "msg/s",
        baseline: round(await bracketed(HOT_IN_FLIGHT)),
        baselineLabel: `${RAW_LABEL}, ${HOT_IN_FLIGHT} in flight`,
        target: `>= ${TARGET_HOT_MSG_PER_S} msg/s`,
        met: hotRate >= TARGET_HOT_MSG_PER_S,
      }),
    );

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
    const many = await phase(
      "many_chats",
      `${CHATS} chats`,
      MANY_IN_FLIGHT,
      () => eachLimited(chats, MANY_IN_FLIGHT, (chat) => persist(chat.chatId, chat.members[0] as UserId)),
      manySend,
    );
    const manyRate = rate(many);
    const manyRaw = await bracketed(MANY_IN_FLIGHT);
    figures.push(
      figure({
        name: "persist.many_chats.throughput",
        value: round(manyRate),
        unit: "msg/s",
        baseline: round(manyRaw),
        baselineLabel: `${RAW_LABEL}, ${MANY_IN_FLIGHT} in flight`,
        target: `>= ${TARGET_RATIO} x baseline`,
        met: manyRate / manyRaw >= TARGET_RATIO,
      }),
    );
  } finally {
    await ingest.shutdown().catch(() => {});
    await eventLog.close();
    await deleteTables(client, prefix).catch(() => {});
    client.destroy();
    rawClient.destroy();
    await dynalite?.stop();
  }
  return { figures, details };
}

export const scenario: Scenario = {
  name: "persist",
  title: `Persist: messages/s and ACK latency, 1 hot chat and ${CHATS.toLocaleString("en-US")} chats, vs raw conditional PutItem`,
  engines: ["dynamodb"],
  run,
};
