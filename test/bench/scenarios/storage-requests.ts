import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";
import { DynamoDBClient, PutItemCommand, type PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import {
  createDynamoClient,
  DYNAMO_REQUEST_TIMEOUTS,
  LOCAL_ACCESS_KEY_ID,
  localAuthHeaders,
} from "../../../runtime/adapters/dynamodb/client.js";
import { type DynaliteServer, startDynalite } from "../../../runtime/adapters/dynamodb/dynalite-server.js";
import { startDynaliteWorker } from "../../../runtime/adapters/dynamodb/dynalite-worker.js";
import { ensureTables, tableName } from "../../../runtime/adapters/dynamodb/tables.js";
import { uniqueName } from "../../support/engines.js";
import { round } from "../report.js";
import { type Figure, figure, type Scenario, type ScenarioContext } from "../scenario.js";

/**
 * What one storage request costs (ARCHITECTURE.md §7: after requests per message, the CPU of one request is the
 * second lever). Three writers put the same message-sized block items, 32 at a time, each with a fresh key and
 * `attribute_not_exists` as the sequencer does: a hand-made HTTP request (the floor: dynalite's own cost plus
 * Node's HTTP), the SDK client configured as before the local request path, and `createDynamoClient` as it is.
 * Each runs against dynalite on this thread and against dynalite on a worker thread (the embedded default),
 * both started here, in memory, and measured in alternating short windows so that drift hits all alike.
 */

const WRITERS = 32;
const REGION = "us-east-1";
const RAW_LABEL = "raw HTTP conditional PutItem";
const PREVIOUS_LABEL = "SDK, previous local client";

/** A typical chat line, as in the persist scenario. */
const CONTENT =
  "The quick brown fox jumps over the lazy dog, then sends a picture of it to the whole group. ".repeat(2);

const WRITER_KINDS = ["raw", "sdk_previous", "sdk"] as const;
type WriterKind = (typeof WRITER_KINDS)[number];
const PLACEMENTS = ["thread", "worker"] as const;
type Placement = (typeof PLACEMENTS)[number];

/** Sums over every window of one writer on one placement. */
interface Tally {
  puts: number;
  errors: number;
  elapsedMs: number;
  /** This process's CPU (every thread: dynalite's share is in it too, the same for every writer). */
  cpuMicros: number;
  /** Time the main event loop was busy. */
  busyMs: number;
}

/** A block of one message, in the shape the sequencer puts (D16), under a key no other put uses. */
function putInput(table: string, key: string, now: number): PutItemCommandInput {
  return {
    TableName: table,
    Item: {
      chat_id: { S: key },
      sequence: { N: "1" },
      last_sequence: { N: "1" },
      messages: {
        L: [
          {
            M: {
              sequence: { N: "1" },
              message_id: { S: `msg_${key}` },
              sender_id: { S: "user_01J00000000000000000000000" },
              client_message_id: { S: key },
              content: { S: CONTENT },
              content_type: { S: "text/plain" },
              created_at: { N: String(now) },
            },
          },
        ],
      },
    },
    ConditionExpression: "attribute_not_exists(#chat_id)",
    ExpressionAttributeNames: { "#chat_id": "chat_id" },
  };
}

/** createDynamoClient's client for a local endpoint before it had a request path of its own: SigV4, defaults. */
const previousClient = (endpoint: string) =>
  new DynamoDBClient({
    region: REGION,
    endpoint,
    credentials: { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: LOCAL_ACCESS_KEY_ID },
    maxAttempts: 2,
    requestHandler: { ...DYNAMO_REQUEST_TIMEOUTS },
  });

/** The DynamoDB JSON protocol by hand over kept-alive connections: serialize, POST, read the answer. */
function rawWriter(endpoint: string) {
  const { hostname, port } = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: WRITERS });
  const auth = localAuthHeaders(REGION, new Date());
  const put = (input: PutItemCommandInput) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify(input);
      const request = httpRequest(
        {
          host: hostname,
          port,
          method: "POST",
          path: "/",
          agent,
          headers: {
            "content-type": "application/x-amz-json-1.0",
            "content-length": Buffer.byteLength(body),
            "x-amz-target": "DynamoDB_20120810.PutItem",
            ...auth,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            if (response.statusCode === 200) resolve();
            else reject(new Error(`PutItem answered ${response.statusCode}: ${Buffer.concat(chunks)}`));
          });
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  return { put, close: () => agent.destroy() };
}

async function run(context: ScenarioContext) {
  const say = context.progress;
  const windowMs = context.quick ? 1_000 : 3_000;
  const rounds = context.quick ? 1 : 3;
  const warmupMs = context.quick ? 500 : 1_000;
  say(
    `${rounds} round(s) of ${windowMs / 1000} s per writer and placement, ${WRITERS} writers, after ${warmupMs / 1000} s warm-up`,
  );

  const servers: Partial<Record<Placement, DynaliteServer>> = {};
  const closers: Array<() => void> = [];
  const tallies = new Map<string, Tally>();
  try {
    servers.thread = await startDynalite({ progress: say });
    servers.worker = await startDynaliteWorker({ progress: say });
    const prefix = uniqueName("bench_requests_");
    const table = tableName(prefix, "messages");
    let sequence = 0;
    const nextInput = () => putInput(table, `chat_${prefix}_${sequence++}`, Date.now());

    const writers = new Map<string, () => Promise<unknown>>();
    for (const placement of PLACEMENTS) {
      const endpoint = (servers[placement] as DynaliteServer).endpoint;
      const current = createDynamoClient({ endpoint, region: REGION });
      const previous = previousClient(endpoint);
      const raw = rawWriter(endpoint);
      closers.push(
        () => current.destroy(),
        () => previous.destroy(),
        () => raw.close(),
      );
      await ensureTables(current, prefix);
      writers.set(`${placement}.raw`, () => raw.put(nextInput()));
      writers.set(`${placement}.sdk_previous`, () => previous.send(new PutItemCommand(nextInput())));
      writers.set(`${placement}.sdk`, () => current.send(new PutItemCommand(nextInput())));
    }

    /** `WRITERS` loops of `put` for `durationMs`; each finishes the put it is in. */
    const window = async (put: () => Promise<unknown>, durationMs: number): Promise<Tally> => {
      let puts = 0;
      let errors = 0;
      let firstError: unknown;
      const started = performance.now();
      const end = started + durationMs;
      const cpuAtStart = process.cpuUsage();
      const loopAtStart = performance.eventLoopUtilization();
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (performance.now() < end) {
            try {
              await put();
              puts++;
            } catch (error) {
              errors++;
              firstError ??= error;
            }
          }
        }),
      );
      const cpu = process.cpuUsage(cpuAtStart);
      if (firstError !== undefined) say(`  ${errors} puts failed, the first: ${String(firstError)}`);
      return {
        puts,
        errors,
        elapsedMs: performance.now() - started,
        cpuMicros: cpu.user + cpu.system,
        busyMs: performance.eventLoopUtilization(loopAtStart).active,
      };
    };

    for (const [key, put] of writers) {
      say(`${key}: warm-up`);
      await window(put, warmupMs);
    }
    const keys = [...writers.keys()];
    for (let r = 0; r < rounds; r++) {
      // Each round starts two writers further on, so drift within a round favours no writer every time.
      const order = keys.map((_, i) => keys[(i + r * 2) % keys.length] as string);
      for (const key of order) {
        const measured = await window(writers.get(key) as () => Promise<unknown>, windowMs);
        const sum = tallies.get(key) ?? { puts: 0, errors: 0, elapsedMs: 0, cpuMicros: 0, busyMs: 0 };
        tallies.set(key, {
          puts: sum.puts + measured.puts,
          errors: sum.errors + measured.errors,
          elapsedMs: sum.elapsedMs + measured.elapsedMs,
          cpuMicros: sum.cpuMicros + measured.cpuMicros,
          busyMs: sum.busyMs + measured.busyMs,
        });
        say(
          `round ${r + 1} ${key}: ${((measured.puts * 1000) / measured.elapsedMs).toFixed(0)} put/s, ` +
            `${(measured.cpuMicros / Math.max(1, measured.puts)).toFixed(0)} µs CPU/put`,
        );
      }
    }
  } finally {
    for (const close of closers) close();
    await servers.thread?.stop();
    await servers.worker?.stop();
  }

  const tally = (placement: Placement, kind: WriterKind) => tallies.get(`${placement}.${kind}`) as Tally;
  const rate = (t: Tally) => (t.puts * 1000) / t.elapsedMs;
  const cpuPerPut = (t: Tally) => t.cpuMicros / Math.max(1, t.puts);
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string, baseline: number | null, baselineLabel = "") =>
    figures.push(
      figure({
        name: `storage_requests.${name}`,
        value: round(value),
        unit,
        baseline: baseline === null ? null : round(baseline),
        baselineLabel,
        target: null,
      }),
    );
  const where: Record<Placement, string> = {
    thread: "dynalite on this thread",
    worker: "dynalite on a worker thread",
  };
  for (const placement of PLACEMENTS) {
    const [raw, previous, current] = WRITER_KINDS.map((kind) => tally(placement, kind)) as [
      Tally,
      Tally,
      Tally,
    ];
    const rawLabel = `${RAW_LABEL}, ${where[placement]}`;
    add(`${placement}.raw.throughput`, rate(raw), "put/s", null);
    add(`${placement}.sdk_previous.throughput`, rate(previous), "put/s", rate(raw), rawLabel);
    add(`${placement}.sdk.throughput`, rate(current), "put/s", rate(raw), rawLabel);
    add(
      `${placement}.sdk.throughput_vs_previous`,
      rate(current),
      "put/s",
      rate(previous),
      `${PREVIOUS_LABEL}, ${where[placement]}`,
    );
    add(`${placement}.raw.cpu_per_put`, cpuPerPut(raw), "µs", null);
    add(
      `${placement}.sdk.cpu_per_put`,
      cpuPerPut(current),
      "µs",
      cpuPerPut(previous),
      `${PREVIOUS_LABEL}, ${where[placement]}`,
    );
  }
  for (const kind of WRITER_KINDS) {
    add(
      `worker_vs_thread.${kind}.throughput`,
      rate(tally("worker", kind)),
      "put/s",
      rate(tally("thread", kind)),
      `the same writer, ${where.thread}`,
    );
  }
  const details: Record<string, unknown> = { writers: WRITERS, windowMs, rounds, warmupMs };
  for (const [key, t] of tallies) {
    details[key] = {
      puts: t.puts,
      errors: t.errors,
      putsPerSecond: round(rate(t)),
      cpuMicrosPerPut: round(cpuPerPut(t)),
      mainLoopBusyPercent: round((100 * t.busyMs) / t.elapsedMs),
    };
  }
  return { figures, details };
}

export const scenario: Scenario = {
  name: "storage-requests",
  title:
    "Storage requests: conditional PutItem/s and CPU per put, raw HTTP vs SDK (previous and current local client), dynalite on this thread vs a worker thread",
  run,
};
