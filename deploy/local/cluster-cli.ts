import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_SHAPE, type LocalCluster, startLocalCluster } from "./cluster.js";
import { defaultCacheDir } from "./engine.js";
import { startEngines } from "./engines.js";
import { guardProcesses } from "./process-guard.js";

/**
 * `npm run cluster`: dynalite, Redis and Kafka (started as the tests start them, or the ones named by
 * DYNAMODB_ENDPOINT / REDIS_URL / KAFKA_BROKERS), then every role in processes of its own, a status table,
 * and one entry URL. Ctrl-C stops everything it started.
 */
const HELP = `Usage: npm run cluster -- [options]

Starts a local cluster: ${DEFAULT_SHAPE.gateways} gateways, ${DEFAULT_SHAPE.ingest} ingest nodes, ${DEFAULT_SHAPE.fanout} fanout workers and ${DEFAULT_SHAPE.chatmgmt} chat-management
node, each its own process, against dynalite, Redis and Kafka, behind one entry URL
(WebSocket /v1/ws to the gateways, everything else to chat management). Ctrl-C stops all of it.

Options:
  --port <n>        entry URL port (default 8080)
  --gateways <n>    gateway processes (default ${DEFAULT_SHAPE.gateways})
  --ingest <n>      ingest processes (default ${DEFAULT_SHAPE.ingest})
  --fanout <n>      fanout processes (default ${DEFAULT_SHAPE.fanout})
  --data-dir <dir>  logs and the JWT signing key (default ./data/cluster)
  --help            this text

Engines already running are used when DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS are set.
Kafka jars are cached in ${defaultCacheDir()}. Node logs: <data-dir>/logs/<node>.log.`;

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    gateways: { type: "string" },
    ingest: { type: "string" },
    fanout: { type: "string" },
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const count = (value: string | undefined, fallback: number, name: string): number => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    console.error(`--${name} must be an integer from 1 to 16`);
    process.exit(2);
  }
  return n;
};
const shape = {
  gateways: count(values.gateways, DEFAULT_SHAPE.gateways, "gateways"),
  ingest: count(values.ingest, DEFAULT_SHAPE.ingest, "ingest"),
  fanout: count(values.fanout, DEFAULT_SHAPE.fanout, "fanout"),
  chatmgmt: 1,
};
const say = (line: string) => console.log(`[cluster] ${line}`);

const engines = await startEngines({
  which: ["dynamodb", "redis", "kafka"],
  env: process.env,
  required: true,
  cacheDir: defaultCacheDir(),
  progress: (line) => say(line),
});
let cluster: LocalCluster | undefined;
guardProcesses(
  async () => {
    say("stopping nodes (each drains), then engines…");
    await cluster?.stop();
    await engines.stopAll();
  },
  () => [...engines.started, ...(cluster?.nodes.map((node) => node.child) ?? [])],
);
try {
  cluster = await startLocalCluster({
    shape,
    engines: engines.env,
    dataDir: resolve(values["data-dir"] ?? "./data/cluster"),
    entryPort: Number(values.port ?? "8080"),
    progress: say,
  });
} catch (error) {
  console.error(`[cluster] ${(error as Error).message}`);
  await engines.stopAll();
  process.exit(1);
}
const rows = [["ROLE", "NODE", "PID", "HTTP", "INTERNAL", "GRPC", "HEALTH"]];
for (const node of await cluster.status()) {
  rows.push([
    node.role,
    node.nodeId,
    String(node.child.pid ?? "-"),
    String(node.httpPort),
    String(node.internalPort),
    String(node.grpcPort ?? "-"),
    node.health,
  ]);
}
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
console.log(
  `\n${rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ")).join("\n")}`,
);
console.log(`\nEntry URL: ${cluster.entryUrl}   (WebSocket ${cluster.entryUrl.replace("http", "ws")}/v1/ws)`);
console.log(`Ring:      ADMIN_TOKEN=dev-admin-token npm run ring -- show --url ${cluster.adminUrl}`);
console.log("           (INTERNAL: each node's /admin/ring, /inspector, /metrics and detailed /health)");
console.log("Ctrl-C stops everything.");
setInterval(() => {}, 1 << 30);
