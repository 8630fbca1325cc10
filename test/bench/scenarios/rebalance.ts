import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type LocalCluster, startLocalCluster } from "../../../deploy/local/cluster.js";
import { createDynamoClient } from "../../../runtime/adapters/dynamodb/client.js";
import { deleteTables } from "../../../runtime/adapters/dynamodb/tables.js";
import { loadConfig } from "../../../runtime/config.js";
import { type IngestProcess, startIngestProcess } from "../../placement/ingest-cluster.js";
import { uniqueName } from "../../support/engines.js";
import { devLogin, restAs } from "../../support/ws-peer.js";
import { percentile, round } from "../report.js";
import { figure, type Scenario, type ScenarioContext } from "../scenario.js";
import { ProtocolClient } from "./sync.js";

/**
 * Scenario 6: adding an ingest node under load. A local multi-process cluster (1 gateway, 2 ingest nodes, 1
 * fanout worker, chat management) on the real engines; WebSocket clients send to their chats at a steady,
 * open-loop rate (each send is scheduled whatever happened to the previous one, and its latency counts from its
 * scheduled time, so a stall shows instead of hiding). A third ingest node starts outside the ring and is then
 * added through the operator API (/admin/ring), which moves part of the chats to it.
 *
 * Reported: the time from the ring change until every live ingest node has applied it with no handoff left
 * (settled), the time until every moved chat has acknowledged a send issued once settled (serving), and the
 * send latency during the move against the same load before it. The load runs as long after the change as
 * before it, and longer when the move takes longer.
 */

/**
 * Few chats per connection: a connection may have 100 requests in flight, and a refused request counts toward
 * the gateway's abuse limit (100 in 60 s closes the connection), so a slow moment must not exhaust it.
 */
const CHATS_PER_SENDER = 2;
/** Per chat: well inside the gateway's 10/s per chat and, with 6 chats, 30/s per connection (D9). */
const SENDS_PER_CHAT_PER_S = 2;
/** TIMEOUT: no answer within the client's request timeout; the retry keeps the client_message_id. */
const RETRYABLE = new Set(["SERVICE_UNAVAILABLE", "INTERNAL_ERROR", "RATE_LIMITED", "TIMEOUT"]);
const MAX_ATTEMPTS = 10;
const CONTENT = "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group.";

interface Sample {
  readonly chatIndex: number;
  readonly scheduledAt: number;
  ackedAt?: number;
  failed?: string;
  attempts: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
let phoneCounter = Math.floor(Math.random() * 1e6);
const phone = () => `+1646${String(phoneCounter++ % 1e7).padStart(7, "0")}`;

/** One send with the client contract's retries (same client_message_id); resolves when acked or given up. */
async function send(client: ProtocolClient, chatId: string, sample: Sample): Promise<void> {
  const clientMessageId = randomUUID();
  for (;;) {
    sample.attempts++;
    const answer = await client
      .request("send_message", {
        chat_id: chatId,
        client_message_id: clientMessageId,
        content: CONTENT,
        content_type: "text/plain",
      })
      .catch((error: unknown) => ({
        type: "error",
        payload: {
          code: client.closed === undefined ? "TIMEOUT" : "CONNECTION_CLOSED",
          message: String(error),
        } as Record<string, unknown>,
      }));
    if (answer.type === "send_message_ack") {
      sample.ackedAt = performance.now();
      return;
    }
    const error = answer.payload as { code?: string; details?: { retry_after_seconds?: number } };
    if (!RETRYABLE.has(error.code ?? "") || sample.attempts >= MAX_ATTEMPTS) {
      sample.failed = error.code ?? "unknown";
      return;
    }
    await sleep(error.code === "RATE_LIMITED" ? 1_000 * (error.details?.retry_after_seconds ?? 1) : 100);
  }
}

async function run(context: ScenarioContext) {
  const say = context.progress;
  const engines = {
    DYNAMODB_ENDPOINT: context.env.DYNAMODB_ENDPOINT ?? "",
    REDIS_URL: context.env.REDIS_URL ?? "",
    KAFKA_BROKERS: context.env.KAFKA_BROKERS ?? "",
  };
  const missing = Object.entries(engines).filter(([, value]) => value === "");
  if (missing.length > 0) throw new Error(`the cluster needs ${missing.map(([name]) => name).join(", ")}`);
  const senders = context.quick ? 6 : 12;
  const windowMs = context.quick ? 5_000 : 10_000;
  const warmupMs = context.quick ? 3_000 : 5_000;
  const intervalMs = 1_000 / SENDS_PER_CHAT_PER_S;

  const prefix = uniqueName("bench_rebalance_");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-rebalance-"));
  const adminToken = randomBytes(16).toString("hex");
  const defaults = loadConfig({ env: {} });
  let cluster: LocalCluster | undefined;
  let added: IngestProcess | undefined;
  const clients: ProtocolClient[] = [];
  let keepLogs = false;
  try {
    say("starting the cluster: 1 gateway, 2 ingest, 1 fanout, 1 chatmgmt");
    cluster = await startLocalCluster({
      shape: { gateways: 1, ingest: 2, fanout: 1, chatmgmt: 1 },
      engines,
      dataDir,
      entryPort: 0,
      tablePrefix: prefix,
      env: {
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: "2000",
        ADMIN_TOKEN: adminToken,
        // Every user of the run logs in from 127.0.0.1 (the entry proxy).
        OTP_REQUESTS_PER_IP: "100000",
        OTP_VERIFIES_PER_IP: "100000",
        // Other deployments on the same Kafka need their own consumer group.
        FANOUT_GROUP: uniqueName("fanout-bench-"),
      },
      progress: (line) => say(`  ${line}`),
      startTimeoutMs: 120_000,
    });
    const entry = cluster.entryUrl;
    const adminUrl = `${cluster.adminUrl}/admin/ring`;
    const admin = async <T>(method: string, path = "", body?: unknown): Promise<T> => {
      const response = await fetch(`${adminUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok)
        throw new Error(`${method} /admin/ring${path}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { data: T }).data;
    };
    const ownerOf = async (chatId: string) =>
      (await admin<{ owner: string | null }>("GET", `/owner?chat_id=${encodeURIComponent(chatId)}`)).owner;

    say(`${senders} senders with ${CHATS_PER_SENDER} chats each, ${SENDS_PER_CHAT_PER_S} sends/s per chat`);
    const listener = await devLogin(entry, phone(), "listener");
    const chats: Array<{ chatId: string; client: ProtocolClient }> = [];
    for (let s = 0; s < senders; s++) {
      const sender = await devLogin(entry, phone(), `sender-${s}`);
      const client = await ProtocolClient.connect(entry, sender.accessToken, `sender-${s}`);
      clients.push(client);
      for (let c = 0; c < CHATS_PER_SENDER; c++) {
        const chat = await restAs<{ chat_id: string }>(entry, sender.accessToken, "POST", "/api/v1/chats", {
          type: "group",
          name: `bench ${s}.${c}`,
          member_ids: [listener.userId],
        });
        chats.push({ chatId: chat.chat_id, client });
      }
    }
    const ownersBefore = await Promise.all(chats.map(({ chatId }) => ownerOf(chatId)));

    say("starting ingest-3 outside the ring");
    added = await startIngestProcess(
      "ingest-3",
      {
        ...engines,
        TABLE_PREFIX: prefix,
        NODE_TTL_MS: String(defaults.nodeTtlMs),
        RING_REFRESH_MS: String(defaults.ringRefreshMs),
      },
      { ...cluster.env, RING_AUTO_JOIN: "false" },
    );

    // Every chat's sequencer active before anything is measured: one acknowledged send per chat.
    say("warm-up: one acknowledged send per chat");
    const first = await Promise.all(
      chats.map(async ({ chatId, client }, chatIndex) => {
        const sample: Sample = { chatIndex, scheduledAt: performance.now(), attempts: 0 };
        await send(client, chatId, sample);
        return sample;
      }),
    );
    const refused = first.filter((sample) => sample.ackedAt === undefined);
    if (refused.length > 0) {
      throw new Error(`${refused.length} of ${chats.length} warm-up sends failed (${refused[0]?.failed})`);
    }

    // The open-loop load: chat i sends at start + offset_i + k * interval, whatever its earlier sends do.
    const samples: Sample[] = [];
    const inFlight = new Set<Promise<void>>();
    let stopAt = Number.POSITIVE_INFINITY;
    const loadStart = performance.now() + 100;
    const loops = chats.map(async ({ chatId, client }, chatIndex) => {
      for (let k = 0; ; k++) {
        const scheduledAt = loadStart + (chatIndex / chats.length) * intervalMs + k * intervalMs;
        if (scheduledAt >= stopAt) return;
        await sleep(scheduledAt - performance.now());
        if (scheduledAt >= stopAt) return;
        const sample: Sample = { chatIndex, scheduledAt, attempts: 0 };
        samples.push(sample);
        const pending = send(client, chatId, sample);
        inFlight.add(pending);
        void pending.finally(() => inFlight.delete(pending));
      }
    });
    const ticker = setInterval(() => {
      const acked = samples.filter((s) => s.ackedAt !== undefined).length;
      say(`  load: ${samples.length} sent, ${acked} acked, ${inFlight.size} in flight`);
    }, 2_000);

    let changeAt = 0;
    let settledAt = 0;
    let servingAt = 0;
    let moveEnd = 0;
    let version = 0;
    let moved: number[] = [];
    let ownersAfter: Array<string | null> = [];
    try {
      say(`warm-up ${warmupMs / 1000} s, then ${windowMs / 1000} s of the same load as the baseline`);
      await sleep(loadStart + warmupMs + windowMs - performance.now());
      changeAt = performance.now();
      version = (await admin<{ version: number }>("POST", "/changes", { kind: "add", node_id: "ingest-3" }))
        .version;
      say(`ring version ${version}: ingest-3 added`);
      for (let polls = 0; ; polls++) {
        const status = await admin<{ version: number; settled: boolean }>("GET");
        if (status.version >= version && status.settled) break;
        if (polls > 1_200) throw new Error("the ring did not settle within 60 s");
        await sleep(50);
      }
      settledAt = performance.now();
      say(`settled after ${Math.round(settledAt - changeAt)} ms; probing every chat`);
      // One probe per chat at once: a moved chat serves again when its probe is acknowledged. A refused probe
      // is sent again (a new send) until the deadline: how long that takes is what is measured.
      const probeDeadline = settledAt + 90_000;
      const probes = await Promise.all(
        chats.map(async ({ chatId, client }, chatIndex) => {
          for (;;) {
            const probe: Sample = { chatIndex, scheduledAt: performance.now(), attempts: 0 };
            await send(client, chatId, probe);
            if (probe.ackedAt !== undefined || performance.now() > probeDeadline || client.closed)
              return probe;
            await sleep(200);
          }
        }),
      );
      ownersAfter = await Promise.all(chats.map(({ chatId }) => ownerOf(chatId)));
      moved = chats.flatMap((_, i) => (ownersAfter[i] !== ownersBefore[i] ? [i] : []));
      const unserved = moved.filter((i) => probes[i]?.ackedAt === undefined);
      if (unserved.length > 0) {
        throw new Error(`${unserved.length} moved chats refused every probe send for 90 s after settling`);
      }
      servingAt = Math.max(settledAt, ...moved.map((i) => probes[i]?.ackedAt ?? 0));
      say(
        `${moved.length} of ${chats.length} chats moved, all serving after ${Math.round(servingAt - changeAt)} ms`,
      );
      moveEnd = Math.max(changeAt + windowMs, servingAt);
      stopAt = moveEnd;
      await Promise.all(loops);
      await Promise.race([Promise.all([...inFlight]), sleep(60_000)]);
    } finally {
      stopAt = 0;
      clearInterval(ticker);
    }

    const closed = clients.filter((client) => client.closed !== undefined);
    if (closed.length > 0) {
      throw new Error(
        `the gateway closed ${closed.length} of ${clients.length} sender connections (${closed[0]?.closed}): ` +
          "the offered load was more than the cluster sustained on this machine",
      );
    }
    const baselineFrom = loadStart + warmupMs;
    const latencies = (from: number, to: number) =>
      samples
        .filter((s) => s.scheduledAt >= from && s.scheduledAt < to && s.ackedAt !== undefined)
        .map((s) => (s.ackedAt as number) - s.scheduledAt)
        .sort((a, b) => a - b);
    const before = latencies(baselineFrom, changeAt);
    const during = latencies(changeAt, moveEnd);
    const failed = samples.filter((s) => s.failed !== undefined);
    const retried = samples.filter((s) => s.attempts > 1).length;
    const perNode = (owners: ReadonlyArray<string | null>) =>
      Object.fromEntries(
        [...new Set(owners)].map((node) => [String(node), owners.filter((o) => o === node).length]),
      );
    const vsBefore = "the same load before the change";
    const latencyFigure = (name: string, q: number) =>
      figure({
        name: `rebalance.send_${name}`,
        value: round(percentile(during, q), 1),
        unit: "ms",
        baseline: round(percentile(before, q), 1),
        baselineLabel: vsBefore,
        target: null,
      });
    return {
      figures: [
        figure({
          name: "rebalance.settle_ms",
          value: Math.round(settledAt - changeAt),
          unit: "ms",
          baseline: null,
          baselineLabel: "",
          target: null,
        }),
        figure({
          name: "rebalance.moved_chats_serving_ms",
          value: Math.round(servingAt - changeAt),
          unit: "ms",
          baseline: null,
          baselineLabel: "",
          target: null,
        }),
        latencyFigure("p50", 0.5),
        latencyFigure("p99", 0.99),
        latencyFigure("max", 1),
      ],
      details: {
        shape: { gateways: 1, ingest: "2 + 1 added", fanout: 1, chatmgmt: 1 },
        chats: chats.length,
        chatsMoved: moved.length,
        ownersBefore: perNode(ownersBefore),
        ownersAfter: perNode(ownersAfter),
        ringVersion: version,
        offeredPerSecond: chats.length * SENDS_PER_CHAT_PER_S,
        baselineWindowMs: Math.round(changeAt - baselineFrom),
        moveWindowMs: Math.round(moveEnd - changeAt),
        sendsBefore: before.length,
        sendsDuring: during.length,
        sendsRetried: retried,
        sendsFailed: failed.length,
        failures: Object.fromEntries(
          [...new Set(failed.map((s) => s.failed))].map((code) => [
            String(code),
            failed.filter((s) => s.failed === code).length,
          ]),
        ),
        ringRefreshMs: defaults.ringRefreshMs,
        nodeTtlMs: defaults.nodeTtlMs,
        // Where the tail comes from: the slowest sends of the move window, on moved chats or not.
        slowestDuring: samples
          .filter((s) => s.scheduledAt >= changeAt && s.scheduledAt < moveEnd && s.ackedAt !== undefined)
          .sort((a, b) => (b.ackedAt as number) - b.scheduledAt - ((a.ackedAt as number) - a.scheduledAt))
          .slice(0, 12)
          .map((s) => ({
            chatMoved: moved.includes(s.chatIndex),
            scheduledAfterChangeMs: Math.round(s.scheduledAt - changeAt),
            latencyMs: Math.round((s.ackedAt as number) - s.scheduledAt),
            attempts: s.attempts,
          })),
      },
    };
  } catch (error) {
    // The nodes' logs say why; they stay for the reader.
    keepLogs = true;
    mkdirSync(join(dataDir, "logs"), { recursive: true });
    if (added !== undefined) writeFileSync(join(dataDir, "logs", "ingest-3.log"), added.output());
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}; the nodes' logs are in ${join(dataDir, "logs")}`, { cause: error });
  } finally {
    for (const client of clients) client.close();
    await added?.stop().catch(() => {});
    await cluster?.stop().catch(() => {});
    const dynamo = createDynamoClient({ endpoint: engines.DYNAMODB_ENDPOINT, region: "us-east-1" });
    await deleteTables(dynamo, prefix).catch(() => {});
    dynamo.destroy();
    if (!keepLogs) rmSync(dataDir, { recursive: true, force: true });
  }
}

export const scenario: Scenario = {
  name: "rebalance",
  title: "Rebalance: adding an ingest node under load: time to serve again, send latency vs before",
  engines: ["dynamodb", "redis", "kafka"],
  run,
};
