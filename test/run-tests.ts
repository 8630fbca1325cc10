import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultCacheDir } from "../deploy/local/engine.js";
import { type EngineKey, type StartedEngines, startEngines } from "../deploy/local/engines.js";
import { guardProcesses } from "../deploy/local/process-guard.js";

/**
 * `npm test`: the one command that proves the project. Type-check, lint, then start the real engines
 * (dynalite in this process, redis-server, Kafka 4.x), run every vitest layer against them, stop them —
 * also when tests fail or the run is interrupted.
 *
 * Options: --help; `--only <pattern...>` passes file filters to vitest; --skip-static skips type-check and lint.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "test-results", "vitest.json");
const args = process.argv.slice(2);

if (args.includes("--help")) {
  console.log(`Usage: npm test [-- --skip-static] [-- <vitest file filters...>]

Runs, in order: tsc --noEmit, biome check, the layer rules (dependency-cruiser), then vitest against real engines it starts itself:
  dynalite (in-process), redis-server (Debian package; installed when missing and running as root),
  Apache Kafka 4.x (jars fetched once from Maven Central into ${defaultCacheDir()}).
Existing engines are used instead when DYNAMODB_ENDPOINT, REDIS_URL or KAFKA_BROKERS are set.
With CI=true an engine that cannot start fails the run; otherwise its suites are skipped with a message.`);
  process.exit(0);
}

const say = (line: string) => console.log(`[test] ${line}`);
let current: ChildProcess | undefined;

function run(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group, so stopping it also stops the workers it forked.
    const child = spawn(command, commandArgs, { cwd: ROOT, env, stdio: "inherit", detached: true });
    current = child;
    child.on("exit", (code, signal) => {
      current = undefined;
      resolve(code ?? (signal ? 128 : 1));
    });
    child.on("error", (error) => {
      say(`${command} failed to start: ${error.message}`);
      resolve(1);
    });
  });
}

function signalGroup(leader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-leader, signal);
  } catch {
    // the group is already gone
  }
}

const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

interface VitestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

function printSummary(): void {
  if (!existsSync(RESULTS)) return;
  const summary = JSON.parse(readFileSync(RESULTS, "utf8")) as VitestSummary;
  // The plain closing line that test-result readers understand, whatever the runner.
  console.log(
    `tests: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${summary.numPendingTests + summary.numTodoTests} skipped`,
  );
}

/** The layer rules over every folder of the repository (also `npm run layers`). */
const LAYER_CHECK = [
  "--config",
  ".dependency-cruiser.cjs",
  "app",
  "runtime",
  "actors",
  "gateway",
  "chatmgmt",
  "proto",
  "deploy",
  "test",
];

async function main(): Promise<number> {
  const skipStatic = args.includes("--skip-static");
  const filters = args.filter((arg) => arg !== "--skip-static");
  if (!skipStatic) {
    say("type-check: tsc --noEmit");
    if ((await run(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"])) !== 0) return 1;
    say("lint: biome check");
    if ((await run(bin("biome"), ["check", "."])) !== 0) return 1;
    say("layers: dependency-cruiser (.dependency-cruiser.cjs)");
    if ((await run(bin("depcruise"), LAYER_CHECK)) !== 0) return 1;
  }

  const ci = process.env.CI === "true";
  const which: EngineKey[] = ["dynamodb", "redis", "kafka"];
  say(`starting engines${ci ? " (CI=true: every engine is required)" : ""}`);
  let engines: StartedEngines | undefined;
  const unguard = guardProcesses(
    async () => {
      if (current?.pid !== undefined) signalGroup(current.pid, "SIGTERM");
      await engines?.stopAll();
    },
    () => [...(engines?.started ?? []), ...(current?.pid === undefined ? [] : [{ pid: -current.pid }])],
    (signal) => say(`${signal}: stopping tests and engines`),
  );
  try {
    engines = await startEngines({
      which,
      env: process.env,
      required: ci,
      cacheDir: defaultCacheDir(),
      progress: (line) => say(line),
    });
    for (const engine of engines.started)
      say(`engine ${engine.name} ${engine.version} at ${engine.endpoint}`);
    mkdirSync(dirname(RESULTS), { recursive: true });
    rmSync(RESULTS, { force: true }); // a summary must never come from an earlier run
    const code = await run(
      bin("vitest"),
      ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${RESULTS}`, ...filters],
      { ...process.env, ...engines.env },
    );
    printSummary();
    return code;
  } finally {
    say("stopping engines");
    await engines?.stopAll();
    unguard();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[test] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
