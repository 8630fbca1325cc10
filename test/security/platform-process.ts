import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { type SnsStandIn, startSnsStandIn } from "../../runtime/adapters/sns/sns-stand-in.js";
import { type Clock, SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { createLogger, type Logger } from "../../runtime/logger.js";
import { uniqueName } from "../support/engines.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The platforms the security suites run: `npm start` in a process of its own (spawnPlatform), or the same
 * assembly in the test process (inProcessPlatforms), each with a data directory of its own that the suite
 * removes afterwards.
 */

/**
 * `npm start` as an operator runs it: `node app/main.ts` in a process of its own, with only the
 * environment given (no variable of the test process leaks in but PATH and HOME). Its stdout (JSON logs)
 * and stderr are captured whole.
 */
export interface PlatformProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnPlatform(env: Record<string, string>): PlatformProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", EXIT_WITH_PARENT: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logLines = () =>
    out.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logLines,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits for the `platform started` log line and returns it (its `url`), or fails with the output. */
export async function waitForStart(
  platform: PlatformProcess,
  timeoutMs = 60_000,
): Promise<Record<string, unknown> & { url: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = platform.logLines().find((line) => line.msg === "platform started");
    if (started !== undefined && typeof started.url === "string") {
      return started as Record<string, unknown> & { url: string };
    }
    const exited = platform.child.exitCode !== null || platform.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await platform.stop(1_000);
      throw new Error(
        `the platform ${exited ? `exited (${platform.child.exitCode})` : "did not start in time"}:\n${platform.stderr().slice(-3000)}\n${platform.stdout().slice(-3000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Registers the suite's cleanup of the data directories it makes, and returns the maker. */
export function dataDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/**
 * What a production-mode process of a suite needs around it: an SNS stand-in (production sends codes by SMS)
 * and a data directory (its signing key is written there). Started before the suite, removed after it.
 */
export interface ProductionSurroundings {
  readonly sns: SnsStandIn;
  readonly dataDir: string;
}

export function productionSurroundings(prefix: string): ProductionSurroundings {
  const makeDir = dataDirs(prefix);
  let sns: SnsStandIn | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    sns = await startSnsStandIn();
    dataDir = makeDir();
  });
  afterAll(async () => {
    await sns?.close();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("used outside the suite that registered it");
    return value;
  };
  return {
    get sns() {
      return ready(sns);
    },
    get dataDir() {
      return ready(dataDir);
    },
  };
}

/**
 * Platforms assembled in the test process (app/platform.ts) on port 0, each with a node id and a data
 * directory of its own; all stopped after the suite, the last started first (gateways before the chat
 * management their keys come from).
 */
export function inProcessPlatforms(options: { prefix: string; logger?: Logger; clock?: Clock }): {
  start(env: Record<string, string>): Promise<RunningPlatform>;
  dataDir(): string;
} {
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const clock = options.clock ?? new SystemClock();
  const dataDir = dataDirs(`${options.prefix}-`);
  const started: RunningPlatform[] = [];
  afterAll(async () => {
    for (const platform of started.splice(0).reverse()) await platform.stop(0);
  }, 60_000);
  return {
    dataDir,
    start: async (env) => {
      const config = loadConfig({
        env: { PORT: "0", DATA_DIR: dataDir(), NODE_ID: uniqueName(`${options.prefix}-`), ...env },
      });
      const platform = await startPlatform(config, logger, clock);
      started.push(platform);
      return platform;
    },
  };
}
