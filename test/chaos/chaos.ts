import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type LocalCluster, startLocalCluster } from "../../deploy/local/cluster.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { SystemClock } from "../../runtime/clock.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import { seededRandom } from "../harness/backoff.js";
import { uniqueName } from "../support/engines.js";
import { persistedEvents, readAllMessages } from "../support/reads.js";
import { restAs } from "../support/ws-peer.js";
import { ChaosClient } from "./chaos-client.js";
import { type ChaosEngines, startChaosEngines } from "./chaos-engines.js";
import { check, type Violation } from "./checker.js";
import { TcpProxy } from "./tcp-proxy.js";

export const FAULT_KINDS = [
  "kill_ingest",
  "kill_gateway",
  "kill_fanout",
  "drain_ingest",
  "add_ingest",
  "flush_redis",
  "restart_redis",
  "slow_dynamodb",
  "cut_dynamodb",
  "slow_kafka",
  "cut_kafka",
  "pause_kafka",
  "restart_kafka",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly users: number;
  /** Time between two faults. */
  readonly faultEveryMs: number;
  /** A client's pause between two sends, drawn from [min, max] ms. */
  readonly sendPauseMs: readonly [number, number];
  /** DynamoDB (dynalite) to use; the cluster reaches it through a TCP proxy. Redis and Kafka are the run's own. */
  readonly dynamodbEndpoint: string;
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

/** Runs `work` over `items` with at most `limit` at once. */
async function inBatches<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

/**
 * One chaos run: its own Redis and Kafka (behind a TCP proxy), a local cluster (2 gateways, 4 ingest nodes,
 * 2 fanout workers, chat management) reaching DynamoDB through another proxy, reference clients in direct and
 * group chats sending all the time, and a seeded schedule of faults; then every client syncs and the checker
 * compares client logs, storage and the event log.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  // Separate streams for the workload and the fault schedule, and one per client (its backoff jitter): the
  // schedule does not shift when a client happens to retry more often in one run than in another.
  const random = seededRandom(options.seed);
  const faultRandom = seededRandom(options.seed ^ 0x5bd1e995);
  const say = options.progress;
  const tablePrefix = uniqueName(`chaos${options.seed}_`);
  say("starting the run's own Redis and Kafka (Kafka behind a TCP proxy)");
  const engines = await startChaosEngines((line) => say(`engines: ${line}`));
  const dynamoUrl = new URL(options.dynamodbEndpoint);
  const dynamoProxy = new TcpProxy(dynamoUrl.hostname, Number(dynamoUrl.port));
  await dynamoProxy.start();
  let cluster: LocalCluster | undefined;
  const redis = new Redis(engines.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on("error", () => {}); // restarted on purpose; commands retry or fail on their own
  const dynamo = createDynamoClient({ endpoint: options.dynamodbEndpoint, region: "us-east-1" });
  const store = new DynamoMessageStore({ client: dynamo, tablePrefix, clock: new SystemClock() });
  const clients: ChaosClient[] = [];
  const stateDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "chaos-clients-"));
  try {
    cluster = await startLocalCluster({
      shape: { gateways: 2, ingest: 4, fanout: 2, chatmgmt: 1 },
      engines: {
        ...engines.env,
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoProxy.port}`,
      },
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
        FANOUT_GROUP: uniqueName(`fanout-chaos${options.seed}-`),
      },
      progress: (line) => say(`cluster: ${line}`),
      startTimeoutMs: 120_000,
    });
    const entryUrl = cluster.entryUrl;

    // Users and chats: pairs in direct chats, and groups of five.
    say(`logging in ${options.users} reference clients`);
    const logins: ChaosClient[] = [];
    await inBatches(
      Array.from({ length: options.users }, (_, i) => i),
      8,
      async (i) => {
        const phone = `+1555${String(options.seed % 1000).padStart(3, "0")}${String(i).padStart(4, "0")}`;
        logins[i] = await ChaosClient.login({
          entryUrl,
          phone,
          deviceId: `chaos-${i}`,
          stateDir,
          random: seededRandom(options.seed + 7919 * (i + 1)),
          sendTimeoutMs: 4_000,
        });
      },
    );
    clients.push(...logins);
    const chats = new Map<string, string[]>();
    const create = async (owner: ChaosClient, body: Record<string, unknown>, members: ChaosClient[]) => {
      const chat = await restAs<{ chat_id: string }>(
        entryUrl,
        await owner.accessToken(),
        "POST",
        "/api/v1/chats",
        body,
      );
      chats.set(
        chat.chat_id,
        members.map((member) => member.userId),
      );
    };
    for (let i = 0; i + 1 < clients.length; i += 2) {
      const [a, b] = [clients[i], clients[i + 1]];
      if (a !== undefined && b !== undefined)
        await create(a, { type: "direct", member_ids: [b.userId] }, [a, b]);
    }
    for (let i = 0; i + 4 < clients.length; i += 5) {
      const group = clients.slice(i, i + 5);
      const [owner, ...others] = group;
      if (owner !== undefined)
        await create(
          owner,
          { type: "group", name: `chaos group ${i / 5}`, member_ids: others.map((c) => c.userId) },
          group,
        );
    }
    const chatsOf = (userId: string) =>
      [...chats].filter(([, members]) => members.includes(userId)).map(([id]) => id);
    for (const client of clients) client.track(chatsOf(client.userId));
    await inBatches(clients, 16, (client) => client.connect());
    say(
      `${clients.length} clients connected, ${chats.size} chats; running for ${options.durationMs / 1000} s`,
    );

    // The workload: every client sends to its chats, one send at a time, until the deadline.
    const deadline = Date.now() + options.durationMs;
    let sent = 0;
    const [pauseMin, pauseMax] = options.sendPauseMs;
    const workload = Promise.all(
      clients.map(async (client, index) => {
        const mine = chatsOf(client.userId);
        let n = 0;
        // Spread the first sends, so hundreds of clients do not start in one burst.
        await sleep(random() * pauseMax);
        while (Date.now() < deadline && mine.length > 0) {
          const chatId = mine[Math.floor(random() * mine.length)] ?? "";
          sent++;
          await client.send(chatId, `c${index}#${n++}`, 30_000);
          await sleep(pauseMin + random() * (pauseMax - pauseMin));
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
    // background, so the next fault does not wait for a node (or the broker) to come back.
    const restarts: Array<Promise<void>> = [];
    const targets: FaultTargets = {
      cluster,
      redis,
      engines,
      random: faultRandom,
      restarts,
      dynamoProxy,
      kafkaBusy: false,
      progress: say,
    };
    const faulting = (async () => {
      await sleep(options.faultEveryMs);
      let turn = Math.floor(faultRandom() * FAULT_KINDS.length);
      while (Date.now() + options.faultEveryMs < deadline) {
        const kind = FAULT_KINDS[turn++ % FAULT_KINDS.length] ?? "kill_ingest";
        const started = Date.now();
        // A fault that could not be injected is on the record; the run goes on.
        const what = await inject(kind, targets).catch(
          (error: unknown) => `injection failed: ${String(error)}`,
        );
        faults[kind]++;
        const line = `${((started - (deadline - options.durationMs)) / 1000).toFixed(1)}s ${kind} ${what}`;
        faultLog.push(line);
        say(`fault: ${line}`);
        await sleep(Math.max(0, options.faultEveryMs - (Date.now() - started)));
      }
    })();

    await Promise.all([workload, sampler, faulting]);
    // A restart that never succeeded is on the record; the checker then shows what it cost.
    for (const outcome of await Promise.allSettled(restarts)) {
      if (outcome.status === "rejected") {
        const line = `restart failed: ${String(outcome.reason).split("\n")[0]}`;
        faultLog.push(line);
        say(line);
      }
    }
    // Converge once every node is back and healthy, as clients would after an incident.
    for (let round = 0; round < 240; round++) {
      if ((await cluster.status()).every((node) => node.health === "ok")) break;
      await sleep(500);
    }
    say("workload done; every client syncs its chats");
    await inBatches(clients, 25, (client) => client.converge(chatsOf(client.userId), 120_000));

    // What storage and the event log hold.
    const stored = new Map<string, StoredMessage[]>();
    for (const chatId of chats.keys()) stored.set(chatId, await readAllMessages(store, chatId as ChatId));
    const published = await publishedPairs(engines.env.KAFKA_BROKERS, new Set(chats.keys()), stored);
    const violations = check({ chats, stored, clients, published, deliverySamples });
    const acknowledged = new Set(clients.flatMap((c) => c.acks.map((ack) => ack.clientMessageId))).size;
    const deliveredLive = clients.reduce((sum, c) => sum + c.livePushes, 0);
    const held = clients.reduce((sum, c) => sum + c.held(chatsOf(c.userId)), 0);
    return {
      seed: options.seed,
      durationMs: options.durationMs,
      clients: clients.length,
      chats: chats.size,
      sent,
      acknowledged,
      unacknowledged: sent - acknowledged,
      deliveredLive,
      // Held messages that were neither the client's own (stored on its ack) nor pushed live.
      recoveredBySync: Math.max(0, held - acknowledged - deliveredLive),
      reconnects: clients.reduce((sum, c) => sum + c.reconnects, 0),
      faults,
      faultLog,
      violations: violations.length,
      violationList: violations,
    };
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    redis.disconnect();
    dynamo.destroy();
    await cluster?.stop();
    await dynamoProxy.stop();
    await engines.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

interface FaultTargets {
  readonly cluster: LocalCluster;
  readonly redis: Redis;
  readonly engines: ChaosEngines;
  readonly random: () => number;
  readonly restarts: Array<Promise<void>>;
  readonly dynamoProxy: TcpProxy;
  /** True while the broker restarts: no other broker fault meanwhile. */
  kafkaBusy: boolean;
  readonly progress: (line: string) => void;
}

async function inject(kind: FaultKind, targets: FaultTargets): Promise<string> {
  const { cluster, redis, engines, random, restarts, dynamoProxy } = targets;
  const pick = (role: string) => {
    const nodes = cluster.nodes.filter((node) => node.role === role && node.exit === undefined);
    return nodes[Math.floor(random() * nodes.length)]?.nodeId;
  };
  const background = (work: Promise<void>) => {
    work.catch(() => {}); // awaited (and reported) with the others when the workload ends
    restarts.push(work);
  };
  const killAndRestart = async (role: string) => {
    const nodeId = pick(role);
    if (nodeId === undefined) return "(none running)";
    await cluster.kill(nodeId);
    const downMs = 500 + random() * 2_000;
    background(sleep(downMs).then(() => restartUntilHealthy(cluster, nodeId)));
    return `${nodeId} (down ${(downMs / 1000).toFixed(1)} s, then restarted)`;
  };
  // An operator's ring change, retried as an operator would when the admin API answers an error (its
  // storage may be cut or slow at that moment): a node removed must be added back.
  const ring = async (change: string, nodeId: string) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${cluster.entryUrl}/admin/ring/changes`, {
        method: "POST",
        headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ kind: change, node_id: nodeId }),
      }).catch((error: unknown) => error as Error);
      if (!(response instanceof Error) && response.ok) return;
      const why = response instanceof Error ? response.message : await response.text();
      if (attempt >= 60) throw new Error(`ring ${change} ${nodeId}: ${why}`);
      await sleep(1_000);
    }
  };
  const kafkaFault = async (describe: () => Promise<string>) => {
    if (targets.kafkaBusy) return "(skipped: the broker is restarting)";
    return describe();
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
      await ring("drain", nodeId);
      await sleep(1_000 + random() * 2_000);
      await ring("activate", nodeId);
      return `${nodeId} drained, then active again`;
    }
    case "add_ingest": {
      // The ring loses a member, then the node is added (joins) again: chats move away and back under load.
      const nodeId = pick("ingest") ?? "ingest-1";
      await ring("remove", nodeId);
      await sleep(1_000 + random() * 2_000);
      await ring("add", nodeId);
      return `${nodeId} removed from the ring, then added`;
    }
    case "flush_redis": {
      await redis.connect().catch(() => {});
      await redis.flushall();
      return "FLUSHALL";
    }
    case "restart_redis": {
      await engines.redis.restart?.("SIGKILL");
      return "redis-server killed and started again, empty";
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
    case "slow_kafka": {
      const ms = 20 + Math.floor(random() * 180);
      const forMs = 2_000 + random() * 3_000;
      engines.kafkaProxy.slow(ms, forMs);
      return `+${ms} ms per chunk for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "cut_kafka": {
      const forMs = 500 + random() * 2_500;
      engines.kafkaProxy.cut(forMs);
      return `connections dropped, refused for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "pause_kafka":
      return kafkaFault(async () => {
        const pid = engines.kafka.pid;
        if (pid === undefined) return "(no broker pid)";
        const forMs = 2_000 + random() * 4_000;
        process.kill(pid, "SIGSTOP");
        await sleep(forMs);
        process.kill(pid, "SIGCONT");
        return `broker frozen (SIGSTOP) for ${(forMs / 1000).toFixed(1)} s`;
      });
    case "restart_kafka":
      return kafkaFault(async () => {
        const signal = random() < 0.5 ? "SIGTERM" : "SIGKILL";
        targets.kafkaBusy = true;
        background(
          (async () => {
            try {
              // A supervisor starts the broker again until it serves (a start can time out on a busy machine).
              for (let attempt = 1; ; attempt++) {
                try {
                  await engines.kafka.restart?.(attempt === 1 ? signal : "SIGKILL");
                  return;
                } catch (error) {
                  targets.progress(
                    `kafka restart attempt ${attempt} failed: ${String(error).split("\n")[0]}`,
                  );
                  if (attempt >= 3) throw error;
                }
              }
            } finally {
              targets.kafkaBusy = false;
            }
          })(),
        );
        return `broker stopped (${signal}), restarting in the background`;
      });
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
