import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { defaultCacheDir } from "../../deploy/local/engine.js";
import { type EngineKey, type StartedEngines, startEngines } from "../../deploy/local/engines.js";
import { guardProcesses } from "../../deploy/local/process-guard.js";
import { writeLatencyPlot } from "./plot.js";
import {
  buildReport,
  formatTable,
  machineInfo,
  type ScenarioOutcome,
  targetResults,
  targetSummary,
} from "./report.js";
import type { BenchEngine, Scenario } from "./scenario.js";
import { scenario as connections } from "./scenarios/connections.js";
import { scenario as endToEnd } from "./scenarios/end-to-end.js";
import { scenario as fanout } from "./scenarios/fanout.js";
import { scenario as groups } from "./scenarios/groups.js";
import { scenario as persist } from "./scenarios/persist.js";
import { scenario as rebalance } from "./scenarios/rebalance.js";
import { scenario as storageRequests } from "./scenarios/storage-requests.js";
import { scenario as sync } from "./scenarios/sync.js";

/**
 * `npm run bench`: every benchmark scenario in order, each with its baseline in the same run, then a table,
 * a JSON report and the latency plot. Engines come from DYNAMODB_ENDPOINT / REDIS_URL / KAFKA_BROKERS when set;
 * otherwise the ones the selected scenarios need are started here and stopped at the end (also on Ctrl-C).
 */

/** The issue's order: persist, fanout, connections, end to end, sync, rebalance. */
const SCENARIOS: readonly Scenario[] = [
  persist,
  fanout,
  connections,
  endToEnd,
  sync,
  rebalance,
  groups,
  storageRequests,
];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEFAULT_OUT = join(ROOT, "test-results", "bench.json");
const DEFAULT_PLOT = join(ROOT, "test-results", "bench-latency.png");
const ENGINE_VARIABLES: Record<BenchEngine, string> = {
  dynamodb: "DYNAMODB_ENDPOINT",
  redis: "REDIS_URL",
  kafka: "KAFKA_BROKERS",
};

const HELP = `Usage: npm run bench -- [--quick] [--out FILE] [--only name,name] [--plot FILE] [--help]

Runs the benchmark scenarios in order, each measuring its figure and a baseline in the same run:
${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.title}`).join("\n")}

Prints a table (figure, value, baseline, ratio, target, met/MISS); targets are reported, never enforced.
Engines: DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS are used when set; otherwise the engines the selected
scenarios need are started (dynalite in this process, redis-server, Kafka 4.x) and stopped at the end.

  --quick           short phases and smaller populations; the numbers are indicative only
  --out FILE        JSON report (default test-results/bench.json)
  --only a,b        run only these scenarios
  --plot FILE       latency-vs-offered-rate PNG (default test-results/bench-latency.png; the SVG beside it)
  --help            this text

To see where the time goes (a .cpuprofile per process, for Chrome DevTools):
  node --cpu-prof --cpu-prof-dir=test-results/profiles --import tsx test/bench/bench-cli.ts --only persist`;

interface Options {
  readonly quick: boolean;
  readonly out: string;
  readonly plot: string;
  readonly only: readonly string[] | undefined;
}

function usageError(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const args = argv.filter((arg) => arg !== "--");
  let quick = false;
  let out = DEFAULT_OUT;
  let plot = DEFAULT_PLOT;
  let only: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = () => {
      const next = args[++i];
      if (next === undefined || next.startsWith("--")) usageError(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case "--help":
        console.log(HELP);
        process.exit(0);
        break;
      case "--quick":
        quick = true;
        break;
      case "--out":
        out = resolve(value());
        break;
      case "--plot":
        plot = resolve(value());
        break;
      case "--only":
        only = value()
          .split(",")
          .map((name) => name.trim())
          .filter((name) => name !== "");
        break;
      default:
        usageError(`unknown argument: ${arg}`);
    }
  }
  const unknown = (only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    usageError(
      `unknown scenario(s): ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
    );
  }
  return { quick, out, plot, only };
}

const started = performance.now();
const clockPrefix = () => {
  const seconds = Math.floor((performance.now() - started) / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
};
const say = (line: string) => console.log(`[bench ${clockPrefix()}] ${line}`);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => options.only === undefined || options.only.includes(s.name));
  const startedAt = new Date();
  const needed = [...new Set(selected.flatMap((s) => s.engines ?? []))] as EngineKey[];
  say(
    `${options.quick ? "quick" : "full"} run of ${selected.map((s) => s.name).join(", ")} on ${machineInfo(ROOT).cpuCount} CPUs`,
  );

  let engines: StartedEngines | undefined;
  const unguard = guardProcesses(
    async () => {
      await engines?.stopAll();
    },
    () => engines?.started ?? [],
    (signal) => say(`${signal}: stopping the engines this run started`),
  );
  const outcomes: ScenarioOutcome[] = [];
  try {
    if (needed.length > 0) say(`engines: ${needed.join(", ")}`);
    engines = await startEngines({
      which: needed,
      env: process.env,
      required: false,
      cacheDir: defaultCacheDir(),
      progress: (line) => say(`  ${line}`),
    });
    for (const engine of engines.started)
      say(`engine ${engine.name} ${engine.version} at ${engine.endpoint}`);
    const env = { ...process.env, ...engines.env };

    for (const [index, scenario] of selected.entries()) {
      const heading = `[${index + 1}/${selected.length}] ${scenario.name}`;
      const missing = (scenario.engines ?? []).filter((engine) => !env[ENGINE_VARIABLES[engine]]);
      const base = { name: scenario.name, title: scenario.title, figures: [], curves: [], details: {} };
      if (missing.length > 0) {
        const reason = `needs ${missing.join(", ")}, which could not start`;
        say(`${heading}: skipped (${reason})`);
        outcomes.push({ ...base, durationMs: 0, skipped: reason });
        continue;
      }
      say(`${heading}: ${scenario.title}`);
      const t0 = performance.now();
      try {
        const result = await scenario.run({
          quick: options.quick,
          env,
          progress: (line) => say(`  ${scenario.name}: ${line}`),
        });
        const durationMs = performance.now() - t0;
        outcomes.push({
          ...base,
          durationMs,
          figures: result.figures,
          curves: result.curves ?? [],
          details: result.details ?? {},
        });
        say(`${heading}: done in ${(durationMs / 1000).toFixed(0)} s, ${result.figures.length} figures`);
      } catch (error) {
        const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
        outcomes.push({ ...base, durationMs: performance.now() - t0, error: reason });
        say(`${heading}: FAILED: ${reason}`);
      }
    }
  } finally {
    if ((engines?.started.length ?? 0) > 0) say("stopping engines");
    await engines?.stopAll();
    unguard();
  }

  const figures = outcomes.flatMap((o) => o.figures);
  console.log(`\n${formatTable(figures)}\n`);
  const report = buildReport({
    quick: options.quick,
    startedAt,
    finishedAt: new Date(),
    machine: machineInfo(ROOT),
    engines: Object.fromEntries(
      Object.values(ENGINE_VARIABLES).flatMap((variable) => {
        const value = engines?.env[variable];
        return value === undefined ? [] : [[variable, value]];
      }),
    ),
    outcomes,
  });
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  say(`report: ${options.out}`);
  if (report.curves.length > 0) {
    const plot = await writeLatencyPlot(report.curves, options.plot);
    say(
      `plot: ${plot.pngPath ?? "(no PNG)"}, ${plot.svgPath}${plot.note === undefined ? "" : `; ${plot.note}`}`,
    );
  } else {
    say("plot: no latency curves in this run (the end-to-end scenario draws them)");
  }
  say(targetSummary(targetResults(figures)));
  const failed = outcomes.filter((o) => o.error !== undefined || o.skipped !== undefined);
  if (failed.length > 0) say(`incomplete: ${failed.map((o) => o.name).join(", ")} did not finish`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
