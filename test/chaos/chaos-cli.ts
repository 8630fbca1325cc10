import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultCacheDir } from "../../deploy/local/engine.js";
import { startEngines } from "../../deploy/local/engines.js";
import { guardProcesses } from "../../deploy/local/process-guard.js";
import { runChaos } from "./chaos.js";
import { formatReport, reportJson } from "./report.js";

const HELP = `Usage: npm run chaos -- [--quick] [--seed N] [--minutes M] [--users N] [--rate R] [--out FILE]

Runs a local cluster (2 gateways, 4 ingest nodes, 2 fanout workers, chat management) on dynalite and on a
Redis and a Kafka broker of its own, with hundreds of reference clients (test/harness) sending to direct and
group chats (every timed-out send retried with the same client_message_id), while a seeded schedule:
kills (-9) and restarts ingest nodes, gateways and fanout workers; drains ring members and removes and adds
them back; flushes Redis and restarts it empty; cuts one ingest node and one gateway off Redis for seconds
while they keep serving (a live second owner: the other nodes give its chats to new owners); slows down and
cuts the cluster's connections to DynamoDB and to Kafka (TCP proxies); freezes the broker (SIGSTOP) and
stops and restarts it (SIGTERM or SIGKILL). Only faults put into effect count; turns that could not inject
theirs are listed apart. Then every client goes offline and the log settles (until it stops growing, bounded);
publication is judged on what messages.persisted held then, before any client wakes a chat. Then every client
comes back and syncs, and a checker verifies: no acknowledged message lost, no duplicate or gap, one order for
every member, every client converged, delivery_state never decreased, every message stored before the settle
window published by its end, every event carrying the stored message of its sequence, sequences first
appearing on the log in ascending order, and no client pushed a lower sequence after a higher one (unless
the log holds that sequence twice: a republication). Prints a
table, and exits 1 when it finds a violation.

Options:
  --quick        1 minute, 40 users, a fault every 4 s
  --seed N       reproduces a run's users, chats, workload and faults (default: time-based, printed)
  --minutes M    duration (default 10)
  --users N      clients (default 200)
  --rate R       offered messages per second over all clients (default about 60 for 200 users); each client
                 pauses users/R seconds on average between its sends, so a slow cluster offers less (the
                 report gives the rate achieved)
  --out FILE     write the report as JSON (seed, acknowledged, faults, violations, violation_list, …)
DYNAMODB_ENDPOINT names a DynamoDB (dynalite) to use; otherwise one is started in this process. Redis and
Kafka are always the run's own (it restarts them); Kafka jars are cached in ${defaultCacheDir()}.`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    seed: { type: "string" },
    minutes: { type: "string" },
    users: { type: "string" },
    rate: { type: "string" },
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
const users = Number(values.users ?? (values.quick ? "40" : "200"));
const rate = values.rate === undefined ? undefined : Number(values.rate);
if (
  !Number.isInteger(seed) ||
  !(minutes > 0) ||
  !Number.isInteger(users) ||
  users < 5 ||
  (rate !== undefined && !(rate > 0))
) {
  console.error("--seed must be an integer, --minutes positive, --users an integer >= 5, --rate positive");
  process.exit(2);
}
/** A client's pause between two sends, uniform in [0.5, 1.5] x its mean: users / rate seconds. */
const meanPauseMs = rate === undefined ? undefined : (1_000 * users) / rate;
const say = (line: string) => console.log(`[chaos] ${line}`);
say(`seed ${seed} (rerun with --seed ${seed})`);
const engines = await startEngines({
  which: ["dynamodb"],
  env: process.env,
  required: true,
  cacheDir: defaultCacheDir(),
  progress: say,
});
guardProcesses(engines.stopAll, () => engines.started);
const started = Date.now();
const ticker = setInterval(() => say(`${Math.round((Date.now() - started) / 1000)} s elapsed`), 30_000);
try {
  const report = await runChaos({
    seed,
    durationMs: minutes * 60_000,
    users,
    faultEveryMs: values.quick ? 4_000 : 10_000,
    // By default about one message per client every 3.5 s: 200 clients offer ~60 msg/s, fanned out to 1–4
    // members each.
    sendPauseMs: meanPauseMs === undefined ? [1_000, 6_000] : [meanPauseMs / 2, (meanPauseMs * 3) / 2],
    dynamodbEndpoint: engines.env.DYNAMODB_ENDPOINT ?? "",
    dataDir: mkdtempSync(join(tmpdir(), "chaos-")),
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
