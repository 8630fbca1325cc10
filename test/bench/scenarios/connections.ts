import { createServer } from "node:http";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type WebSocket, WebSocketServer } from "ws";
import { IngestService } from "../../../actors/chat-sequencer/ingest-service.js";
import { createGateway, type Gateway } from "../../../gateway/gateway.js";
import { encodeFrame } from "../../../gateway/server-frames.js";
import { MemoryChatStore } from "../../../runtime/adapters/memory/chat-store.js";
import { MemoryConnectionRegistry } from "../../../runtime/adapters/memory/connection-registry.js";
import { InProcessEventLog } from "../../../runtime/adapters/memory/event-log.js";
import { MemoryMessageStore } from "../../../runtime/adapters/memory/message-store.js";
import { RedisConnectionRegistry } from "../../../runtime/adapters/redis/connection-registry.js";
import { ManualClock } from "../../../runtime/clock.js";
import type { ChatId, MessageId, Sequence, UserId } from "../../../runtime/ids.js";
import { createLogger } from "../../../runtime/logger.js";
import { toWireMessage } from "../../../runtime/message-wire.js";
import type { StoredMessage } from "../../../runtime/ports/message-store.js";
import { uniqueName } from "../../support/engines.js";
import { testKeys } from "../../support/gateway-harness.js";
import { LoadClients } from "../load/clients.js";
import type { Target } from "../load/protocol.js";
import { type LatencySummary, round, sleep, wallNow } from "../load/stats.js";
import { clock, contentOf, ids, listen } from "../load/systems.js";
import { figure, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";

/**
 * The connection plane against a bare `ws` server on this machine, in the same run:
 *   - idle memory per connection in the server process (JS heap without machine code, plus external
 *     buffers, after GC) at 10,000 connections (1,000 with --quick), target <= 1.5x bare ws;
 *   - connect rate: WebSocket handshakes per second, 50 at a time (the gateway's include the JWT check and
 *     the routing entry), no target;
 *   - a push to every connection: once the memory of an idle round is read, one message pushed to every
 *     idle connection at once (gateway.api.deliver vs a bare ws send of the same frame text); latency per
 *     connection from just before the push call here to its receipt in the client process, p50/p99/max,
 *     no target (reported only);
 *   - push throughput to 1,000 connections (200 with --quick): gateway.api.deliver vs a bare ws send of the
 *     same frame text, target >= 50% of bare ws.
 * The gateway is createGateway with the SystemClock; routing in Redis when the engines name one (a gateway
 * process of the cluster), else the embedded mode's in-memory registry. Clients run in a child process, so
 * this process measures only the server. Each system is measured twice, alternating, and averaged (the
 * push to every connection: p50 and p99 averaged, max the larger of the two).
 */

const TARGET_MEMORY_RATIO = 1.5;
const TARGET_THROUGHPUT_RATIO = 0.5;

interface System {
  readonly name: "bare ws" | "gateway";
  targets(count: number): Promise<Target[]>;
  /** Pushes `messages` to every connection. */
  push(messages: readonly StoredMessage[]): void;
  readonly waitFirstFrame: boolean;
  stop(): Promise<void>;
}

async function bareSystem(): Promise<System> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: "/v1/ws", perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  wss.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  const url = `ws://127.0.0.1:${port}/v1/ws`;
  return {
    name: "bare ws",
    waitFirstFrame: false,
    targets: async (count) => Array.from({ length: count }, () => ({ url })),
    push: (messages) => {
      for (const message of messages) {
        const frame = encodeFrame({ type: "message", payload: toWireMessage(message) }, Date.now());
        for (const socket of sockets) socket.send(frame);
      }
    },
    stop: async () => {
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function gatewaySystem(redisUrl: string | undefined): Promise<System> {
  const logger = createLogger({ level: "silent" });
  const keys = await testKeys(new ManualClock());
  const ingest = new IngestService({
    messageStore: new MemoryMessageStore({ clock }),
    chatStore: new MemoryChatStore({ clock }),
    eventLog: new InProcessEventLog({ clock }),
    clock,
    ids,
    logger,
    producerId: "bench",
  });
  const registry =
    redisUrl === undefined
      ? new MemoryConnectionRegistry({ clock })
      : new RedisConnectionRegistry({ redis: redisUrl, keyPrefix: `${uniqueName("bench-gateway-")}:` });
  const gateway: Gateway = createGateway({
    gatewayId: "bench-gateway",
    logger,
    clock,
    ids,
    ingest,
    connections: registry,
    keys: keys.source,
    // The connections stay idle for longer than a heartbeat period and connect in a burst, all from 127.0.0.1.
    limits: { idleTimeoutMs: 3_600_000, connectsPerUserPerMinute: 1_000_000, maxConnectionsPerIp: 1_000_000 },
  });
  const server = createServer();
  gateway.attach(server);
  const port = await listen(server);
  const url = `ws://127.0.0.1:${port}/v1/ws`;
  let users: UserId[] = [];
  return {
    name: "gateway",
    waitFirstFrame: true,
    targets: async (count) => {
      users = Array.from({ length: count }, () => ids.user());
      return Promise.all(
        users.map(async (user, index) => ({
          url,
          headers: {
            authorization: `Bearer ${await keys.token(user, Date.now())}`,
            "x-device-id": `device-${index}`,
          },
        })),
      );
    },
    push: (messages) => {
      for (const message of messages) void gateway.api.deliver(users.map((userId) => ({ userId, message })));
    },
    stop: async () => {
      await gateway.drain(1_000);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ingest.shutdown();
      if (registry instanceof RedisConnectionRegistry) await registry.close();
    },
  };
}

/** The process's `gc`, exposed at run time when node was not started with --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

async function settledMemory(gc: () => void): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
  // Machine code of functions compiled while connecting is one-off, not per connection: it is left out.
  const heap = getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith("code"))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  const usage = process.memoryUsage();
  return { heap: heap + usage.external, rss: usage.rss };
}

interface IdleSample {
  readonly heapBytes: number;
  readonly rssBytes: number;
  readonly connectsPerSecond: number;
  /** The push to every connection, read after the memory. */
  readonly pushAll: PushAllSample;
}

interface PushAllSample extends LatencySummary {
  /** How long the push call itself took in this process (the sends to every socket, or their queueing). */
  readonly callMs: number;
  /** Latency of the first receipt. */
  readonly firstMs: number;
}

/** `count` messages of one new chat, sequences 1..count, each with 90 bytes of content. */
function messagesOf(count: number): StoredMessage[] {
  const chatId = ids.chat();
  const senderId = ids.user();
  const content = contentOf(90);
  return Array.from({ length: count }, (_, i) => ({
    chatId: chatId as ChatId,
    sequence: (i + 1) as Sequence,
    messageId: ids.message() as MessageId,
    senderId,
    clientMessageId: `c-${i}`,
    content,
    contentType: "text/plain",
    createdAt: Date.now(),
  }));
}

/**
 * One message pushed to every connection of the system at once. Each connection's latency runs from just
 * before the push call in this process to the frame's receipt in the client process (the keyed record mode:
 * the receive time under `chat_id#sequence`), both on the wall clock of `wallNow`. The client process reads
 * the frames one after another, so the tail includes its own turn through all of them, for either system.
 */
async function pushToAll(system: System, clients: LoadClients, count: number): Promise<PushAllSample> {
  const [message] = messagesOf(1) as [StoredMessage];
  const key = `${message.chatId}#${message.sequence}`;
  const arrived = clients.expect(count, 60_000);
  const sentAt = wallNow();
  system.push([message]);
  const callMs = wallNow() - sentAt;
  const frames = await arrived;
  const receipts = await clients.latencies({ [key]: sentAt });
  if (!frames.complete || receipts.matched !== count || receipts.unmatched > 0) {
    throw new Error(
      `${system.name}: a push to every connection reached ${receipts.matched} of ${count} connections ` +
        `(${frames.received} frames in all, ${receipts.unmatched} of other messages)`,
    );
  }
  return {
    ...receipts.latencies,
    callMs: round(callMs, 2),
    firstMs: round(receipts.firstReceiveAt - sentAt, 2),
  };
}

async function idle(
  context: ScenarioContext,
  make: () => Promise<System>,
  clients: LoadClients,
  count: number,
  gc: () => void,
): Promise<IdleSample> {
  const system = await make();
  try {
    // Flat copies of the targets (the tokens are concatenated strings until serialised): sending them to the
    // clients must not allocate here between the two readings, or the bench's own strings count as the server's.
    const targets = JSON.parse(JSON.stringify(await system.targets(count))) as Target[];
    const before = await settledMemory(gc);
    // Keyed: the client process notes when each push arrives, for the push to every connection after the
    // memory reading. Idle connections receive nothing before it, and the recording lives in the client
    // process, so the server's memory is the same as with a plain count.
    const connected = await clients.connect("idle", targets, {
      waitFirstFrame: system.waitFirstFrame,
      record: "keyed",
    });
    if (connected.failed > 0) throw new Error(`${system.name}: ${connected.failed} connections failed`);
    await sleep(500);
    const after = await settledMemory(gc);
    const pushAll = await pushToAll(system, clients, count);
    const sample = {
      heapBytes: (after.heap - before.heap) / count,
      rssBytes: (after.rss - before.rss) / count,
      connectsPerSecond: (count * 1000) / connected.elapsedMs,
      pushAll,
    };
    context.progress(
      `  ${system.name}: ${count} idle connections, ${round(sample.heapBytes / 1024, 2)} KiB heap+external, ${round(sample.rssBytes / 1024, 2)} KiB RSS each; ${round(sample.connectsPerSecond, 0)} connects/s; push to all (call ${pushAll.callMs} ms) first ${pushAll.firstMs} p50 ${pushAll.p50Ms} p99 ${pushAll.p99Ms} max ${pushAll.maxMs} ms`,
    );
    return sample;
  } finally {
    await clients.close("idle");
    await system.stop();
  }
}

async function pushThroughput(
  context: ScenarioContext,
  make: () => Promise<System>,
  clients: LoadClients,
  count: number,
  messages: number,
): Promise<number> {
  const system = await make();
  try {
    await clients.connect("push", await system.targets(count), {
      waitFirstFrame: system.waitFirstFrame,
      record: "count",
    });
    const batch = messagesOf(messages);
    const received = clients.expect(count * messages, 60_000);
    const started = performance.now();
    system.push(batch);
    const arrived = await received;
    const elapsedMs = performance.now() - started;
    if (!arrived.complete)
      throw new Error(`${system.name}: ${arrived.received}/${count * messages} pushes arrived`);
    const rate = (count * messages * 1000) / elapsedMs;
    context.progress(
      `  ${system.name}: ${count} connections x ${messages} messages in ${round(elapsedMs)} ms = ${round(rate, 0)} pushes/s`,
    );
    return rate;
  } finally {
    await clients.close("push");
    await system.stop();
  }
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const scenario: Scenario = {
  name: "connections",
  title:
    "Connections: memory per idle connection, connect rate, a push to every connection and push throughput vs a bare ws server",
  // Routing entries in Redis, as a gateway of the cluster keeps them.
  engines: ["redis"],
  async run(context: ScenarioContext): Promise<ScenarioResult> {
    const gc = collector();
    const redisUrl = context.env.REDIS_URL || undefined;
    const gateway = () => gatewaySystem(redisUrl);
    const idleConnections = context.quick ? 1_000 : 10_000;
    const pushConnections = context.quick ? 200 : 1_000;
    const pushMessages = context.quick ? 50 : 200;
    const clients = new LoadClients();
    try {
      context.progress(
        `idle connections and a push to every one (${idleConnections}, each system twice, alternating)`,
      );
      // Warm-up rounds of the full size, not counted: one-time allocations (compiled code and its metadata,
      // caches, grown tables) are not per connection. Six rounds of 10,000 take about three minutes on a
      // loaded 2-CPU machine, short enough to keep the warm-ups full-size.
      await idle(context, bareSystem, clients, idleConnections, gc);
      await idle(context, gateway, clients, idleConnections, gc);
      const bare = [await idle(context, bareSystem, clients, idleConnections, gc)];
      const gw = [await idle(context, gateway, clients, idleConnections, gc)];
      bare.push(await idle(context, bareSystem, clients, idleConnections, gc));
      gw.push(await idle(context, gateway, clients, idleConnections, gc));

      context.progress(`push throughput (${pushConnections} connections x ${pushMessages} messages, twice)`);
      await pushThroughput(context, bareSystem, clients, pushConnections, Math.ceil(pushMessages / 4));
      await pushThroughput(context, gateway, clients, pushConnections, Math.ceil(pushMessages / 4));
      const bareRates = [await pushThroughput(context, bareSystem, clients, pushConnections, pushMessages)];
      const gwRates = [await pushThroughput(context, gateway, clients, pushConnections, pushMessages)];
      bareRates.push(await pushThroughput(context, bareSystem, clients, pushConnections, pushMessages));
      gwRates.push(await pushThroughput(context, gateway, clients, pushConnections, pushMessages));

      const heap = mean(gw.map((s) => s.heapBytes));
      const bareHeap = mean(bare.map((s) => s.heapBytes));
      const pushAllLabel = `bare ws send of the same frame text to each of the ${idleConnections} sockets`;
      return {
        figures: [
          figure({
            name: "connections.idle_memory",
            value: round(heap / 1024, 2),
            unit: "KiB/connection",
            baseline: round(bareHeap / 1024, 2),
            baselineLabel: "bare ws server (heap without code + external, after GC)",
            target: `<= ${TARGET_MEMORY_RATIO} x baseline`,
            met: heap / bareHeap <= TARGET_MEMORY_RATIO,
          }),
          figure({
            name: "connections.idle_memory_rss",
            value: round(mean(gw.map((s) => s.rssBytes)) / 1024, 2),
            unit: "KiB/connection",
            baseline: round(mean(bare.map((s) => s.rssBytes)) / 1024, 2),
            baselineLabel: "bare ws server (RSS delta, noisy)",
            target: null,
          }),
          figure({
            name: "connections.connect_rate",
            value: round(mean(gw.map((s) => s.connectsPerSecond)), 0),
            unit: "connections/s",
            baseline: round(mean(bare.map((s) => s.connectsPerSecond)), 0),
            baselineLabel: "bare ws server, same client, 50 handshakes at a time",
            target: null,
          }),
          figure({
            name: "connections.push_all.p50",
            value: round(mean(gw.map((s) => s.pushAll.p50Ms)), 2),
            unit: "ms",
            baseline: round(mean(bare.map((s) => s.pushAll.p50Ms)), 2),
            baselineLabel: pushAllLabel,
            target: null,
          }),
          figure({
            name: "connections.push_all.p99",
            value: round(mean(gw.map((s) => s.pushAll.p99Ms)), 2),
            unit: "ms",
            baseline: round(mean(bare.map((s) => s.pushAll.p99Ms)), 2),
            baselineLabel: pushAllLabel,
            target: null,
          }),
          figure({
            name: "connections.push_all.max",
            value: Math.max(...gw.map((s) => s.pushAll.maxMs)),
            unit: "ms",
            baseline: Math.max(...bare.map((s) => s.pushAll.maxMs)),
            baselineLabel: pushAllLabel,
            target: null,
          }),
          figure({
            name: "connections.push_throughput",
            value: round(mean(gwRates), 0),
            unit: "pushes/s",
            baseline: round(mean(bareRates), 0),
            baselineLabel: "bare ws send of the same frame text",
            target: `>= ${TARGET_THROUGHPUT_RATIO} x baseline`,
            met: mean(gwRates) / mean(bareRates) >= TARGET_THROUGHPUT_RATIO,
          }),
        ],
        details: {
          idleConnections,
          // One message to every idle connection, once per round; p50 and p99 are the rounds' mean, max the
          // larger of the two.
          pushAllConnections: idleConnections,
          pushAllMessages: 1,
          pushConnections,
          pushMessages,
          routing: redisUrl === undefined ? "in-memory registry (embedded)" : "Redis (cluster gateway)",
          clients: "one child process",
          samples: { bare, gateway: gw, bareRates, gatewayRates: gwRates },
        },
      };
    } finally {
      await clients.stop();
    }
  },
};
