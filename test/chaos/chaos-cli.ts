import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultCacheDir } from "../../deploy/local/engine.js";
import { startEngines } from "../../deploy/local/engines.js";
import { guardProcesses } from "../../deploy/local/process-guard.js";
import { runChaos } from "./chaos.js";
import { formatReport, reportJson } from "./report.js";

const HELP = `Usage: npm run chaos -- [--quick] [--seed N] [--minutes M] [--users N] [--out FILE]

Runs a local cluster (2 gateways, 3 ingest nodes, 2 fanout workers, chat management) on dynalite, Redis and
Kafka, with clients sending to direct and group chats (every timed-out send retried with the same
client_message_id), while a seeded schedule kills and restarts ingest nodes, gateways and fanout workers,
drains ring members, flushes the cluster's Redis keys, slows down and cuts the cluster's connections to
DynamoDB (through a TCP proxy), and stops the Kafka broker for a few seconds (only a broker it started). Then every client syncs and a checker verifies:
no acknowledged message lost, no duplicate or gap, one order for every member, every client converged,
delivery_state never decreased, every stored message published. Exit code 1 when it finds a violation.

Options:
  --quick        1 minute, 20 users, a fault every 5 s
  --seed N       reproduces a run's users, chats, workload and faults (default: time-based, printed)
  --minutes M    duration (default 10)
  --users N      clients (default 60)
  --out FILE     write the report as JSON
Engines named by DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS are used; otherwise started (Kafka jars in
${defaultCacheDir()}).`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    seed: { type: "string" },
    minutes: { type: "string" },
    users: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const minutes = Number(values.minutes ?? (values.quick ? "1" : "10"));
const users = Number(values.users ?? (values.quick ? "20" : "60"));
if (!Number.isInteger(seed) || !(minutes > 0) || !Number.isInteger(users) || users < 5) {
  console.error("--seed must be an integer, --minutes positive, --users an integer >= 5");
  process.exit(2);
}
const say = (line: string) => console.log(`[chaos] ${line}`);
say(`seed ${seed} (rerun with --seed ${seed})`);
const engines = await startEngines({
  which: ["dynamodb", "redis", "kafka"],
  env: process.env,
  required: true,
  cacheDir: defaultCacheDir(),
  progress: say,
});
guardProcesses(engines.stopAll, () => engines.started);
/** The broker's pid when this run started it (then `pause_kafka` may stop it); never a shared broker. */
function kafkaPid(): { kafkaPid?: number } {
  const pid = engines.started.find((engine) => engine.name === "kafka")?.pid;
  return pid === undefined ? {} : { kafkaPid: pid };
}
const started = Date.now();
const ticker = setInterval(() => say(`${Math.round((Date.now() - started) / 1000)} s elapsed`), 30_000);
try {
  const report = await runChaos({
    seed,
    durationMs: minutes * 60_000,
    users,
    faultEveryMs: values.quick ? 5_000 : 10_000,
    engines: {
      DYNAMODB_ENDPOINT: engines.env.DYNAMODB_ENDPOINT ?? "",
      REDIS_URL: engines.env.REDIS_URL ?? "",
      KAFKA_BROKERS: engines.env.KAFKA_BROKERS ?? "",
    },
    dataDir: mkdtempSync(join(tmpdir(), "chaos-")),
    ...kafkaPid(),
    progress: say,
  });
  console.log(`\n${formatReport(report)}\n`);
  if (values.out !== undefined) {
    writeFileSync(values.out, reportJson(report));
    say(`report written to ${values.out}`);
  }
  process.exitCode = report.violations === 0 ? 0 : 1;
} finally {
  clearInterval(ticker);
  await engines.stopAll();
}
