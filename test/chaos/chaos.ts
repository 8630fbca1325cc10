import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type LocalCluster, startLocalCluster } from "../../deploy/local/cluster.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { SystemClock } from "../../runtime/clock.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import { seededRandom } from "../harness/backoff.js";
import { uniqueName } from "../support/engines.js";
import { readAllMessages } from "../support/reads.js";
import { restAs } from "../support/ws-peer.js";
import { ChaosClient } from "./chaos-client.js";
import { startChaosEngines } from "./chaos-engines.js";
import { check, type Violation } from "./checker.js";
import { FAULT_KINDS, type FaultKind, type FaultTargets, inject, NotInjected } from "./faults.js";
import { PublicationLog } from "./publication-log.js";
import { TcpProxy } from "./tcp-proxy.js";

export { FAULT_KINDS, type FaultKind } from "./faults.js";

/** The cluster's ACTIVATION_SWEEP_MS: how soon a chat left with unpublished messages is woken again. */
const ACTIVATION_SWEEP_MS = 2_000;
/** The settle window closes once the log has not grown for this long: a few sweeps found nothing more. */
const SETTLE_QUIET_MS = 3 * ACTIVATION_SWEEP_MS;

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
  /** Faults put into effect, by kind. */
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Turns of a kind that could not be put into effect (nothing to hit, the target busy, an error). */
  readonly faultsNotInjected: Readonly<Record<FaultKind, number>>;
  /** Fencing conflicts the ingest nodes counted while a live second owner was cut off. */
  readonly fencingConflicts: number;
  readonly faultLog: readonly string[];
  /** The settle window with every client offline: its length, and whether the log stopped growing in it. */
  readonly settle: { readonly waitedMs: number; readonly quiet: boolean };
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

/** Every stored message of the run's chats, now. */
async function readStored(store: MessageStore, chatIds: Iterable<string>) {
  const stored = new Map<string, StoredMessage[]>();
  for (const chatId of chatIds) stored.set(chatId, await readAllMessages(store, chatId as ChatId));
  return stored;
}

/**
 * One chaos run: its own Redis and Kafka (behind TCP proxies), a local cluster (2 gateways, 4 ingest nodes,
 * 2 fanout workers, chat management) reaching DynamoDB through another proxy, reference clients in direct and
 * group chats sending all the time, and a seeded schedule of faults. Then every client goes offline and the
 * log settles, so publication is judged before anything a client does can wake a chat; then every client
 * comes back and syncs, and the checker compares client logs, storage and the event log.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  // Separate streams for the workload and the fault schedule, and one per client (its backoff jitter): the
  // schedule does not shift when a client happens to retry more often in one run than in another.
  const random = seededRandom(options.seed);
  const faultRandom = seededRandom(options.seed ^ 0x5bd1e995);
  const say = options.progress;
  const tablePrefix = uniqueName(`chaos${options.seed}_`);
  say("starting the run's own Redis and Kafka (each behind a TCP proxy)");
  const engines = await startChaosEngines((line) => say(`engines: ${line}`));
  const dynamoUrl = new URL(options.dynamodbEndpoint);
  const dynamoProxy = new TcpProxy(dynamoUrl.hostname, Number(dynamoUrl.port));
  await dynamoProxy.start();
  let cluster: LocalCluster | undefined;
  let publication: PublicationLog | undefined;
  const redis = new Redis(engines.redisDirectUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
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
        ACTIVATION_SWEEP_MS: String(ACTIVATION_SWEEP_MS),
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: "2000",
        OTP_REQUESTS_PER_IP: "100000",
        OTP_VERIFIES_PER_IP: "100000",
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
    const perKind = () =>
      Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
    const faults = perKind();
    const faultsNotInjected = perKind();
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
      reconnectClients: async () => {
        const chosen = clients.filter((_, index) => index % 2 === 0);
        await inBatches(chosen, 16, (client) => client.reconnect(5_000));
        return chosen.length;
      },
      fencingConflicts: 0,
      progress: say,
    };
    const faulting = (async () => {
      await sleep(options.faultEveryMs);
      let turn = Math.floor(faultRandom() * FAULT_KINDS.length);
      while (Date.now() + options.faultEveryMs < deadline) {
        const kind = FAULT_KINDS[turn++ % FAULT_KINDS.length] ?? "kill_ingest";
        const started = Date.now();
        // Only a fault put into effect counts; one that could not be is on the record, and the run goes on.
        let what: string;
        try {
          what = await inject(kind, targets);
          faults[kind]++;
        } catch (error) {
          faultsNotInjected[kind]++;
          what =
            error instanceof NotInjected
              ? `not injected: ${error.message}`
              : `injection failed: ${String(error)}`;
        }
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

    // Publication is judged before any client comes back: a sync or a retried send wakes a chat's sequencer,
    // whose activation republishes everything above published_through and would hide a lost publication.
    say("workload done; every client goes offline and the log settles");
    await inBatches(clients, 25, (client) => client.quiesce());
    const settledStored = await readStored(store, chats.keys());
    publication = await PublicationLog.open(engines.env.KAFKA_BROKERS, new Set(chats.keys()));
    const settleMaxMs = Math.min(30_000, Math.max(2 * SETTLE_QUIET_MS, options.durationMs / 4));
    const settled = await publication.settle(SETTLE_QUIET_MS, settleMaxMs);
    say(
      `settled after ${(settled.waitedMs / 1000).toFixed(1)} s (${settled.quiet ? "quiet" : "the log still grew"}); every client comes back and syncs its chats`,
    );
    await inBatches(clients, 25, (client) => client.resume(60_000));
    await inBatches(clients, 25, (client) => client.converge(chatsOf(client.userId), 120_000));

    // What storage and the event log hold at the end.
    const stored = await readStored(store, chats.keys());
    const expected = [...stored].flatMap(([chatId, messages]) =>
      messages.map((m) => `${chatId}#${m.sequence}`),
    );
    await publication.catchUp((events) => {
      const seen = new Set(events.map((event) => `${event.chatId}#${event.sequence}`));
      return expected.every((pair) => seen.has(pair));
    }, 60_000);
    const violations = check({
      chats,
      stored,
      clients: clients.map((client) => client.record(chatsOf(client.userId))),
      log: publication.events(),
      settled: { stored: settledStored, published: settled.published },
      deliverySamples,
    });
    const acknowledged = new Set(clients.flatMap((c) => c.acks.map((ack) => ack.clientMessageId))).size;
    return {
      seed: options.seed,
      durationMs: options.durationMs,
      clients: clients.length,
      chats: chats.size,
      sent,
      acknowledged,
      unacknowledged: sent - acknowledged,
      deliveredLive: clients.reduce((sum, c) => sum + c.livePushes, 0),
      recoveredBySync: clients.reduce((sum, c) => sum + c.syncedFirst, 0),
      reconnects: clients.reduce((sum, c) => sum + c.reconnects, 0),
      faults,
      faultsNotInjected,
      fencingConflicts: targets.fencingConflicts,
      faultLog,
      settle: { waitedMs: settled.waitedMs, quiet: settled.quiet },
      violations: violations.length,
      violationList: violations,
    };
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    await publication?.close().catch(() => {});
    redis.disconnect();
    dynamo.destroy();
    await cluster?.stop();
    await dynamoProxy.stop();
    await engines.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
