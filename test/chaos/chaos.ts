import { Redis } from "ioredis";
import { type LocalCluster, startLocalCluster } from "../../deploy/local/cluster.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { SystemClock } from "../../runtime/clock.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import { uniqueName } from "../support/engines.js";
import { persistedEvents, readAllMessages } from "../support/reads.js";
import { devLogin, restAs } from "../support/ws-peer.js";
import { ChaosClient } from "./chaos-client.js";
import { check, type Violation } from "./checker.js";
import { TcpProxy } from "./tcp-proxy.js";

/** A seeded generator (mulberry32): the same seed gives the same users, chats, workload and faults. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAULT_KINDS = [
  "kill_ingest",
  "kill_gateway",
  "kill_fanout",
  "drain_ingest",
  "flush_redis",
  "slow_dynamodb",
  "cut_dynamodb",
  "pause_kafka",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly users: number;
  /** Time between two faults. */
  readonly faultEveryMs: number;
  readonly engines: {
    readonly DYNAMODB_ENDPOINT: string;
    readonly REDIS_URL: string;
    readonly KAFKA_BROKERS: string;
  };
  /**
   * The Kafka broker's pid when this run owns the broker (`npm run chaos` started it): `pause_kafka` stops it
   * with SIGSTOP and resumes it. Absent (a shared broker, as in `npm test`): that fault is left out.
   */
  readonly kafkaPid?: number;
  readonly dataDir: string;
  readonly progress: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly chats: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly unacknowledged: number;
  readonly deliveredLive: number;
  readonly recoveredBySync: number;
  readonly reconnects: number;
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly faultLog: readonly string[];
  readonly violations: number;
  readonly violationList: readonly Violation[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One chaos run: a local cluster (2 gateways, 3 ingest nodes, 2 fanout workers, chat management), users in
 * direct and group chats sending all the time, and a seeded schedule of faults; then every client syncs and
 * the checker compares client logs, storage and the event log.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = seeded(options.seed);
  const say = options.progress;
  const tablePrefix = uniqueName(`chaos${options.seed}_`);
  // The cluster reaches DynamoDB through a proxy the fault schedule slows down and cuts.
  const dynamoUrl = new URL(options.engines.DYNAMODB_ENDPOINT);
  const dynamoProxy = new TcpProxy(dynamoUrl.hostname, Number(dynamoUrl.port));
  await dynamoProxy.start();
  const kinds = FAULT_KINDS.filter((kind) => kind !== "pause_kafka" || options.kafkaPid !== undefined);
  const cluster = await startLocalCluster({
    shape: { gateways: 2, ingest: 3, fanout: 2, chatmgmt: 1 },
    engines: { ...options.engines, DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoProxy.port}` },
    dataDir: options.dataDir,
    entryPort: 0,
    tablePrefix,
    env: {
      NODE_TTL_MS: "2000",
      RING_REFRESH_MS: "250",
      ACTIVATION_SWEEP_MS: "2000",
      LOG_LEVEL: "warn",
      SHUTDOWN_GRACE_MS: "2000",
      OTP_REQUESTS_PER_IP: "100000",
      // Other clusters (other suites) may share the broker and its topics: a consumer group of its own.
      FANOUT_GROUP: uniqueName(`fanout-chaos${options.seed}-`),
    },
    progress: (line) => say(`cluster: ${line}`),
    startTimeoutMs: 120_000,
  });
  const redis = new Redis(options.engines.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const dynamo = createDynamoClient({ endpoint: options.engines.DYNAMODB_ENDPOINT, region: "us-east-1" });
  const store = new DynamoMessageStore({ client: dynamo, tablePrefix, clock: new SystemClock() });
  const clients: ChaosClient[] = [];
  try {
    // Users and chats: pairs in direct chats, and groups of five.
    say(`logging in ${options.users} users`);
    const users: Array<{ userId: string; accessToken: string }> = [];
    for (let i = 0; i < options.users; i++) {
      const phone = `+1555${String(options.seed % 1000).padStart(3, "0")}${String(i).padStart(4, "0")}`;
      users.push(await devLogin(cluster.entryUrl, phone, `chaos-${i}`));
    }
    const chats = new Map<string, string[]>();
    for (let i = 0; i + 1 < users.length; i += 2) {
      const [a, b] = [users[i], users[i + 1]];
      if (a === undefined || b === undefined) continue;
      const chat = await restAs<{ chat_id: string }>(
        cluster.entryUrl,
        a.accessToken,
        "POST",
        "/api/v1/chats",
        {
          type: "direct",
          member_ids: [b.userId],
        },
      );
      chats.set(chat.chat_id, [a.userId, b.userId]);
    }
    for (let i = 0; i + 4 < users.length; i += 5) {
      const group = users.slice(i, i + 5);
      const [owner, ...others] = group;
      if (owner === undefined) continue;
      const chat = await restAs<{ chat_id: string }>(
        cluster.entryUrl,
        owner.accessToken,
        "POST",
        "/api/v1/chats",
        {
          type: "group",
          name: `chaos group ${i / 5}`,
          member_ids: others.map((u) => u.userId),
        },
      );
      chats.set(
        chat.chat_id,
        group.map((u) => u.userId),
      );
    }
    const chatsOf = (userId: string) =>
      [...chats].filter(([, members]) => members.includes(userId)).map(([id]) => id);
    for (const [index, user] of users.entries()) {
      const client = new ChaosClient(
        user.userId,
        `chaos-${index}`,
        cluster.entryUrl,
        () => user.accessToken,
        random,
      );
      await client.start();
      clients.push(client);
    }
    say(
      `${clients.length} clients connected, ${chats.size} chats; running for ${options.durationMs / 1000} s`,
    );

    // The workload: every client sends to its chats, one send at a time, until the deadline.
    const deadline = Date.now() + options.durationMs;
    let unacknowledged = 0;
    const workload = Promise.all(
      clients.map(async (client) => {
        const mine = chatsOf(client.userId);
        let n = 0;
        while (Date.now() < deadline && mine.length > 0) {
          const chatId = mine[Math.floor(random() * mine.length)] ?? "";
          const ack = await client.send(chatId, `${client.userId.slice(-6)}#${n++}`, 30_000);
          if (ack === undefined) unacknowledged++;
          await sleep(100 + random() * 400);
        }
      }),
    );

    // delivery_state samples (a few pairs), to check it never decreases.
    const samplePairs = clients
      .slice(0, 10)
      .flatMap((client) => chatsOf(client.userId).map((chat) => `${client.userId}|${chat}`));
    const deliverySamples = new Map<string, number[]>();
    const sampler = (async () => {
      while (Date.now() < deadline) {
        for (const pair of samplePairs) {
          const [userId, chatId] = pair.split("|") as [UserId, ChatId];
          const state = await store.getDeliveryState(userId, chatId).catch(() => undefined);
          if (state !== undefined)
            deliverySamples.set(pair, [...(deliverySamples.get(pair) ?? []), state.lastAckedSequence]);
        }
        await sleep(1_000);
      }
    })();

    // The fault schedule.
    const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
    const faultLog: string[] = [];
    // Kinds take turns from a seeded start, so even a short run has every kind; restarts run in the
    // background, so the next fault does not wait for a node to come back.
    const restarts: Array<Promise<void>> = [];
    const faulting = (async () => {
      await sleep(options.faultEveryMs);
      let turn = Math.floor(random() * kinds.length);
      while (Date.now() + options.faultEveryMs < deadline) {
        const kind = kinds[turn++ % kinds.length] ?? "kill_ingest";
        const started = Date.now();
        const what = await inject(kind, {
          cluster,
          redis,
          tablePrefix,
          random,
          restarts,
          dynamoProxy,
          kafkaPid: options.kafkaPid,
        });
        faults[kind]++;
        const line = `${((started - (deadline - options.durationMs)) / 1000).toFixed(1)}s ${kind} ${what}`;
        faultLog.push(line);
        say(`fault: ${line}`);
        await sleep(Math.max(0, options.faultEveryMs - (Date.now() - started)));
      }
    })();

    await Promise.all([workload, sampler, faulting]);
    await Promise.all(restarts);
    // Converge once every node is back and healthy, as clients would after an incident.
    for (let round = 0; round < 120; round++) {
      if ((await cluster.status()).every((node) => node.health === "ok")) break;
      await sleep(500);
    }
    say("workload done; every client syncs its chats");
    for (const client of clients) for (const chatId of chatsOf(client.userId)) await client.syncChat(chatId);

    // What storage and the event log hold.
    const stored = new Map<string, StoredMessage[]>();
    for (const chatId of chats.keys()) stored.set(chatId, await readAllMessages(store, chatId as ChatId));
    const published = await publishedPairs(options.engines.KAFKA_BROKERS, new Set(chats.keys()), stored);
    const violations = check({ chats, stored, clients, published, deliverySamples });
    const acknowledged = clients.reduce((sum, c) => sum + c.acks.length, 0);
    const deliveredLive = clients.reduce((sum, c) => sum + c.livePushes, 0);
    const received = clients.reduce(
      (sum, c) => sum + [...c.received.values()].reduce((s, m) => s + m.size, 0),
      0,
    );
    return {
      seed: options.seed,
      durationMs: options.durationMs,
      clients: clients.length,
      chats: chats.size,
      sent: acknowledged + unacknowledged,
      acknowledged,
      unacknowledged,
      deliveredLive,
      recoveredBySync: received - deliveredLive,
      reconnects: clients.reduce((sum, c) => sum + c.reconnects, 0),
      faults,
      faultLog,
      violations: violations.length,
      violationList: violations,
    };
  } finally {
    for (const client of clients) client.stop();
    redis.disconnect();
    dynamo.destroy();
    await cluster.stop();
    await dynamoProxy.stop();
  }
}

interface FaultTargets {
  readonly cluster: LocalCluster;
  readonly redis: Redis;
  readonly tablePrefix: string;
  readonly random: () => number;
  readonly restarts: Array<Promise<void>>;
  readonly dynamoProxy: TcpProxy;
  readonly kafkaPid: number | undefined;
}

async function inject(kind: FaultKind, targets: FaultTargets): Promise<string> {
  const { cluster, redis, tablePrefix, random, restarts, dynamoProxy, kafkaPid } = targets;
  const pick = (role: string) => {
    const nodes = cluster.nodes.filter((node) => node.role === role && node.exit === undefined);
    return nodes[Math.floor(random() * nodes.length)]?.nodeId;
  };
  const killAndRestart = async (role: string) => {
    const nodeId = pick(role);
    if (nodeId === undefined) return "(none running)";
    await cluster.kill(nodeId);
    const downMs = 500 + random() * 2_000;
    const restarted = sleep(downMs).then(() => restartUntilHealthy(cluster, nodeId));
    restarted.catch(() => {}); // awaited (and reported) with the others when the workload ends
    restarts.push(restarted);
    return `${nodeId} (down ${(downMs / 1000).toFixed(1)} s, then restarted)`;
  };
  switch (kind) {
    case "kill_ingest":
      return killAndRestart("ingest");
    case "kill_gateway":
      return killAndRestart("gateway");
    case "kill_fanout":
      return killAndRestart("fanout");
    case "drain_ingest": {
      const nodeId = pick("ingest") ?? "ingest-1";
      const admin = async (kindOfChange: string) => {
        const response = await fetch(`${cluster.entryUrl}/admin/ring/changes`, {
          method: "POST",
          headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
          body: JSON.stringify({ kind: kindOfChange, node_id: nodeId }),
        });
        if (!response.ok) throw new Error(`ring ${kindOfChange} ${nodeId}: ${await response.text()}`);
      };
      await admin("drain");
      await sleep(1_000 + random() * 2_000);
      await admin("activate");
      return nodeId;
    }
    case "flush_redis": {
      // Only this cluster's keys: other suites may share the server.
      await redis.connect().catch(() => {});
      const prefix = `${tablePrefix}routing:`;
      let cursor = "0";
      let deleted = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) deleted += await redis.del(...keys);
      } while (cursor !== "0");
      return `${deleted} keys`;
    }
    case "slow_dynamodb": {
      const ms = 20 + Math.floor(random() * 180);
      const forMs = 2_000 + random() * 3_000;
      dynamoProxy.slow(ms, forMs);
      return `+${ms} ms per chunk for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "cut_dynamodb": {
      const forMs = 500 + random() * 2_500;
      dynamoProxy.cut(forMs);
      return `connections dropped, refused for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "pause_kafka": {
      if (kafkaPid === undefined) return "(no broker of its own)";
      const forMs = 2_000 + random() * 4_000;
      process.kill(kafkaPid, "SIGSTOP");
      await sleep(forMs);
      process.kill(kafkaPid, "SIGCONT");
      return `broker stopped (SIGSTOP) for ${(forMs / 1000).toFixed(1)} s`;
    }
  }
}

/**
 * Starts a killed node again, as a supervisor would: a node whose start fails while a fault is on (DynamoDB
 * cut, Kafka stopped) exits, and is started again after a pause.
 */
async function restartUntilHealthy(cluster: LocalCluster, nodeId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.restart(nodeId);
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(1_000);
    }
  }
}

/** `(chat, sequence)` pairs of the run's chats on `messages.persisted`, read from the beginning. */
async function publishedPairs(
  brokers: string,
  chats: ReadonlySet<string>,
  stored: ReadonlyMap<string, readonly StoredMessage[]>,
): Promise<Set<string>> {
  const expected = [...stored.values()].reduce((sum, messages) => sum + messages.length, 0);
  const pairs = (events: readonly { chat_id: string; sequence: number }[]) =>
    new Set(events.map((event) => `${event.chat_id}#${event.sequence}`));
  return pairs(await persistedEvents(brokers, chats, (seen) => pairs(seen).size >= expected, 60_000));
}
