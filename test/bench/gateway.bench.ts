import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket, { WebSocketServer } from "ws";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { createGateway, type Gateway } from "../../gateway/gateway.js";
import { encodeFrame } from "../../gateway/server-frames.js";
import { testKeys } from "../../gateway/testing/harness.js";
import { MemoryChatStore } from "../../runtime/adapters/memory/chat-store.js";
import { MemoryConnectionRegistry } from "../../runtime/adapters/memory/connection-registry.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { RedisConnectionRegistry } from "../../runtime/adapters/redis/connection-registry.js";
import { ManualClock, SystemClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type MessageId, type Sequence, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { toWireMessage } from "../../runtime/message-wire.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";

/**
 * The connection plane against a bare `ws` server on the same machine, in the same run:
 *   - idle memory per connection (server process: JS heap + external buffers after GC), target <= 1.5x bare ws;
 *   - push throughput to N connections (gateway.api.deliver vs a bare ws broadcast of the same frame text),
 *     target >= 50% of bare ws.
 * Clients run in a child process (this file with --client) so the server process measures only the server.
 * Each system is measured twice, alternating, and averaged.
 */

const TARGET_MEMORY_RATIO = 1.5;
const TARGET_THROUGHPUT_RATIO = 0.5;
const HELP = `Usage: node --expose-gc --import tsx test/bench/gateway.bench.ts [--quick] [--out <file.json>]

Measures, in one run on this machine (clients in a child process):
  idle memory per connection: the gateway (createGateway, SystemClock; routing in Redis when REDIS_URL is set,
    else the in-memory registry of the embedded mode) vs a bare ws server;
  push throughput to N connections: gateway.api.deliver vs a bare ws broadcast of the same frame text.
Targets: memory <= ${TARGET_MEMORY_RATIO}x bare ws; throughput >= ${TARGET_THROUGHPUT_RATIO * 100}% of bare ws.

  --quick        fewer connections and messages
  --out <file>   JSON report (default test-results/bench-gateway.json)
  --help         this text`;

const CONTENT = "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group.";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);
const say = (line: string) => console.log(`[bench] ${line}`);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
}

type ToClient =
  | { cmd: "connect"; targets: Target[]; waitFirstFrame: boolean }
  | { cmd: "expect"; total: number }
  | { cmd: "close" };
type FromClient = { ev: "connected"; count: number } | { ev: "received"; count: number } | { ev: "closed" };

/* ---------------------------------------------------------------- client process */

async function clientMain(): Promise<void> {
  let sockets: WebSocket[] = [];
  let received = 0;
  let expected = Number.POSITIVE_INFINITY;
  const reply = (message: FromClient) => process.send?.(message);
  process.on("message", async (message: ToClient) => {
    if (message.cmd === "connect") {
      let next = 0;
      const opened: WebSocket[] = [];
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          for (let index = next++; index < message.targets.length; index = next++) {
            const target = message.targets[index] as Target;
            const socket = new WebSocket(target.url, { headers: target.headers, perMessageDeflate: false });
            await new Promise<void>((resolve, reject) => {
              socket.once("error", reject);
              if (message.waitFirstFrame) socket.once("message", () => resolve());
              else socket.once("open", () => resolve());
            });
            socket.on("message", () => {
              received++;
              if (received === expected) reply({ ev: "received", count: received });
            });
            opened.push(socket);
          }
        }),
      );
      sockets = opened;
      reply({ ev: "connected", count: sockets.length });
    } else if (message.cmd === "expect") {
      received = 0;
      expected = message.total;
    } else {
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              socket.once("close", () => resolve());
              socket.terminate();
            }),
        ),
      );
      sockets = [];
      reply({ ev: "closed" });
    }
  });
}

/* ---------------------------------------------------------------- server side */

class Clients {
  private readonly child: ChildProcess;
  private waiting: ((message: FromClient) => void) | undefined;

  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), ["--client"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (message: FromClient) => this.waiting?.(message));
  }

  private ask(command: ToClient): Promise<FromClient> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.child.send(command);
    });
  }

  connect(targets: Target[], waitFirstFrame: boolean) {
    return this.ask({ cmd: "connect", targets, waitFirstFrame });
  }

  /** Arms the receive counter; the returned promise resolves when `total` frames arrived. */
  expect(total: number): Promise<FromClient> {
    const done = new Promise<FromClient>((resolve) => {
      this.waiting = resolve;
    });
    this.child.send({ cmd: "expect", total } satisfies ToClient);
    return done;
  }

  close() {
    return this.ask({ cmd: "close" });
  }

  stop(): void {
    this.child.kill();
  }
}

interface System {
  readonly name: "bare-ws" | "gateway";
  readonly url: string;
  targets(count: number): Promise<Target[]>;
  /** Pushes `messages` to every connection. */
  push(messages: readonly StoredMessage[]): void;
  readonly waitFirstFrame: boolean;
  stop(): Promise<void>;
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
};

async function bareSystem(): Promise<System> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: "/v1/ws" });
  const sockets = new Set<WebSocket>();
  wss.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  const url = `ws://127.0.0.1:${port}/v1/ws`;
  return {
    name: "bare-ws",
    url,
    waitFirstFrame: false,
    targets: async (count) => Array.from({ length: count }, () => ({ url, headers: {} })),
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

async function gatewaySystem(): Promise<System> {
  const clock = new SystemClock();
  const ids = new IdFactory(clock);
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
  // A gateway process of a cluster keeps routing in Redis; the embedded process keeps it in memory here.
  const redisUrl = process.env.REDIS_URL;
  const keyPrefix = `bench-gateway-${process.pid}-${Date.now()}:`;
  const registry =
    redisUrl === undefined
      ? new MemoryConnectionRegistry({ clock })
      : new RedisConnectionRegistry({ redis: redisUrl, keyPrefix });
  const gateway: Gateway = createGateway({
    gatewayId: "bench-gateway",
    logger,
    clock,
    ids,
    ingest,
    connections: registry,
    keys: keys.source,
    // The bench's connections stay idle for longer than a heartbeat period and connect in a burst.
    limits: { idleTimeoutMs: 3_600_000, connectsPerUserPerMinute: 1_000_000 },
  });
  const server = createServer();
  gateway.attach(server);
  const port = await listen(server);
  const url = `ws://127.0.0.1:${port}/v1/ws`;
  let users: UserId[] = [];
  return {
    name: "gateway",
    url,
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
      for (const message of messages) {
        void gateway.api.deliver(users.map((userId) => ({ userId, message })));
      }
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

const gc = (globalThis as { gc?: () => void }).gc;
async function settledMemory(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed + usage.external, rss: usage.rss };
}

async function idleMemory(make: () => Promise<System>, clients: Clients, count: number) {
  const system = await make();
  const targets = await system.targets(count);
  const before = await settledMemory();
  await clients.connect(targets, system.waitFirstFrame);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await settledMemory();
  await clients.close();
  await system.stop();
  const perConnection = {
    heapBytes: (after.heap - before.heap) / count,
    rssBytes: (after.rss - before.rss) / count,
  };
  say(
    `  ${system.name}: ${count} idle connections, ${round(perConnection.heapBytes / 1024, 2)} KiB heap+external, ${round(perConnection.rssBytes / 1024, 2)} KiB RSS each`,
  );
  return perConnection;
}

async function pushThroughput(
  make: () => Promise<System>,
  clients: Clients,
  count: number,
  messages: number,
) {
  const system = await make();
  await clients.connect(await system.targets(count), system.waitFirstFrame);
  const chatId = "chat_01JQ7Z8X9Y0000000000000000" as ChatId;
  const batch: StoredMessage[] = Array.from({ length: messages }, (_, i) => ({
    chatId,
    sequence: (i + 1) as Sequence,
    messageId: `msg_01JQ7Z8X9Y${String(i).padStart(16, "0")}` as MessageId,
    senderId: "user_01JQ7Z8X9Y0000000000000001" as UserId,
    clientMessageId: `c-${i}`,
    content: CONTENT,
    contentType: "text/plain",
    createdAt: Date.now(),
  }));
  const received = clients.expect(count * messages);
  const started = performance.now();
  system.push(batch);
  await received;
  const elapsedMs = performance.now() - started;
  await clients.close();
  await system.stop();
  const rate = (count * messages * 1000) / elapsedMs;
  say(
    `  ${system.name}: ${count} connections x ${messages} messages in ${round(elapsedMs)} ms = ${round(rate, 0)} pushes/s`,
  );
  return rate;
}

interface Result {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
  readonly target: string;
  readonly met: boolean | null;
}

function parseArgs(argv: readonly string[]): { quick: boolean; out: string } {
  const args = argv.filter((arg) => arg !== "--");
  if (args.includes("--help")) {
    console.log(HELP);
    process.exit(0);
  }
  const outAt = args.indexOf("--out");
  const out = outAt >= 0 ? args[outAt + 1] : join(ROOT, "test-results", "bench-gateway.json");
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
  if (gc === undefined) say("warning: run with node --expose-gc for stable memory figures");
  say(
    `routing: ${process.env.REDIS_URL === undefined ? "in-memory registry (embedded mode)" : `Redis at ${process.env.REDIS_URL} (cluster mode)`}`,
  );
  const idleConnections = quick ? 500 : 2_000;
  const pushConnections = quick ? 200 : 1_000;
  const pushMessages = quick ? 50 : 200;
  const clients = new Clients();
  try {
    say(`idle memory per connection (${idleConnections} connections, each system twice)`);
    // Warm-up rounds, not counted: one-time allocations (compiled code, caches) are not per connection.
    await idleMemory(bareSystem, clients, Math.ceil(idleConnections / 4));
    await idleMemory(gatewaySystem, clients, Math.ceil(idleConnections / 4));
    const bare = [await idleMemory(bareSystem, clients, idleConnections)];
    const gateway = [await idleMemory(gatewaySystem, clients, idleConnections)];
    bare.push(await idleMemory(bareSystem, clients, idleConnections));
    gateway.push(await idleMemory(gatewaySystem, clients, idleConnections));
    say(`push throughput (${pushConnections} connections x ${pushMessages} messages, each system twice)`);
    // A warm-up round of each, not counted: the first run pays for JIT compilation.
    await pushThroughput(bareSystem, clients, pushConnections, Math.ceil(pushMessages / 4));
    await pushThroughput(gatewaySystem, clients, pushConnections, Math.ceil(pushMessages / 4));
    const bareRates = [await pushThroughput(bareSystem, clients, pushConnections, pushMessages)];
    const gatewayRates = [await pushThroughput(gatewaySystem, clients, pushConnections, pushMessages)];
    bareRates.push(await pushThroughput(bareSystem, clients, pushConnections, pushMessages));
    gatewayRates.push(await pushThroughput(gatewaySystem, clients, pushConnections, pushMessages));

    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const bareHeap = mean(bare.map((m) => m.heapBytes));
    const gatewayHeap = mean(gateway.map((m) => m.heapBytes));
    const bareRss = mean(bare.map((m) => m.rssBytes));
    const gatewayRss = mean(gateway.map((m) => m.rssBytes));
    const bareRate = mean(bareRates);
    const gatewayRate = mean(gatewayRates);
    const results: Result[] = [
      {
        name: "idle memory per connection (heap+external)",
        value: round(gatewayHeap / 1024, 2),
        unit: "KiB",
        baseline: round(bareHeap / 1024, 2),
        ratio: round(gatewayHeap / bareHeap, 2),
        target: `<= ${TARGET_MEMORY_RATIO}x`,
        met: gatewayHeap / bareHeap <= TARGET_MEMORY_RATIO,
      },
      {
        name: "idle memory per connection (RSS delta, noisy, informative)",
        value: round(gatewayRss / 1024, 2),
        unit: "KiB",
        baseline: round(bareRss / 1024, 2),
        ratio: round(gatewayRss / bareRss, 2),
        target: "none",
        met: null,
      },
      {
        name: `push throughput to ${pushConnections} connections`,
        value: round(gatewayRate, 0),
        unit: "pushes/s",
        baseline: round(bareRate, 0),
        ratio: round(gatewayRate / bareRate, 2),
        target: `>= ${TARGET_THROUGHPUT_RATIO}x`,
        met: gatewayRate / bareRate >= TARGET_THROUGHPUT_RATIO,
      },
    ];
    printTable(results);
    const report = {
      benchmark: "gateway",
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version },
      versions: { ws: versionOf("ws"), xstate: versionOf("xstate"), jose: versionOf("jose") },
      setup: {
        mode: quick ? "quick" : "full",
        idleConnections,
        pushConnections,
        pushMessages,
        gc: gc !== undefined,
        routing: process.env.REDIS_URL === undefined ? "in-memory registry (embedded)" : "Redis (cluster)",
        clients: "one child process",
      },
      samples: { bare, gateway, bareRates, gatewayRates },
      results,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    say(`report written to ${out}`);
  } finally {
    clients.stop();
  }
}

function printTable(results: readonly Result[]): void {
  const rows = [
    ["figure", "value", "baseline (bare ws)", "ratio", "target", "met"],
    ...results.map((r) => [
      r.name,
      `${r.value} ${r.unit}`,
      `${r.baseline} ${r.unit}`,
      String(r.ratio),
      r.target,
      r.met === null ? "" : r.met ? "met" : "MISS",
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  for (const row of rows)
    console.log(row.map((value, column) => value.padEnd(widths[column] ?? 0)).join("  "));
}

if (process.argv.includes("--client")) await clientMain();
else await main();
