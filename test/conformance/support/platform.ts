import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The system under test, started the way a user starts it (`npm start`, i.e. `node --import tsx
 * app/main.ts`) as a child process configured only through its documented environment variables. The
 * suite never imports the platform's code: it learns where the platform listens from the `platform started`
 * line of its JSON log, and talks to it over HTTP and WebSocket only.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export const ENGINE_VARIABLES = ["DYNAMODB_ENDPOINT", "REDIS_URL", "KAFKA_BROKERS"] as const;

/**
 * The engines' endpoints, or undefined when one is missing (the suite is then skipped with a message).
 * Under CI=true a missing engine is an error: the conformance gate must never pass by skipping.
 */
export function engineEnv(): Record<(typeof ENGINE_VARIABLES)[number], string> | undefined {
  const missing = ENGINE_VARIABLES.filter((name) => !process.env[name]);
  if (missing.length === 0) {
    return {
      DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT ?? "",
      REDIS_URL: process.env.REDIS_URL ?? "",
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? "",
    };
  }
  const message = `${missing.join(", ")} not set: the conformance suite needs every engine (run \`npm test\`)`;
  if (process.env.CI === "true") throw new Error(`under CI=true ${message}`);
  console.warn(`[conformance] ${message}; skipping`);
  return undefined;
}

/**
 * Deadlines of the suite's hooks and tests. They only bound a failing run (a platform that does not start, a
 * frame that never comes) on a machine that may be busy; no test asserts how fast anything happens.
 */
export const HOOK_TIMEOUT_MS = 240_000;
export const TEST_TIMEOUT_MS = 180_000;

export const unique = (prefix: string): string => `${prefix}${randomBytes(5).toString("hex")}`;

export interface Platform {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** `ws://127.0.0.1:<port>/v1/ws`. */
  readonly wsUrl: string;
  readonly pid: number;
  /** The fanout worker's Kafka consumer group (FANOUT_GROUP), to see from outside what it has consumed. */
  readonly fanoutGroup: string;
  /** The PEM of the key the platform signs access tokens with (the suite configured it, as an operator does). */
  readonly signingKeyPem: string;
  /** Every line the process wrote, for diagnosis. */
  readonly output: () => string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM by pid, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Extra documented environment variables (limits shrunk for a file's tests). */
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

/** Starts one embedded platform on the shared engines, with tables, Redis keys and consumer group of its own. */
export async function startPlatform(options: StartOptions = {}): Promise<Platform> {
  const engines = engineEnv();
  if (engines === undefined) throw new Error("the engines are not configured");
  const dataDir = mkdtempSync(join(tmpdir(), "conformance-"));
  const keyFile = join(dataDir, "signing-key.pem");
  const signingKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ format: "pem", type: "pkcs8" })
    .toString();
  writeFileSync(keyFile, signingKeyPem, { mode: 0o600 });
  const prefix = unique("conf_");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...engines,
    ROLE: "all",
    HOST: "127.0.0.1",
    PORT: "0",
    DATA_DIR: dataDir,
    DEV_MODE: "true",
    TABLE_PREFIX: prefix,
    FANOUT_GROUP: `${prefix}fanout`,
    NODE_ID: prefix.replaceAll("_", "-"),
    JWT_PRIVATE_KEY_FILE: keyFile,
    LOG_LEVEL: "info",
    EXIT_WITH_PARENT: "true",
    SHUTDOWN_GRACE_MS: "3000",
    // Every test user logs in from 127.0.0.1: the per-IP OTP limit would otherwise stop the suite.
    OTP_REQUESTS_PER_IP: "100000",
    OTP_VERIFIES_PER_IP: "100000",
    // A file's tests keep up to 25 sockets of one user open at once (World.connect), all from 127.0.0.1.
    WS_MAX_CONNECTIONS_PER_USER: "50",
    WS_MAX_CONNECTIONS_PER_IP: "100000",
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("the platform did not start");
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    let pending = "";
    const timer = setTimeout(
      () => reject(new Error(`the platform did not start in time:\n${output.slice(-4000)}`)),
      options.startTimeoutMs ?? 180_000,
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === "platform started" && typeof entry.url === "string") {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a log line of ours
        }
      }
      // Keep only the tail: a long run logs a lot.
      if (output.length > 200_000) output = output.slice(-100_000);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the platform exited with ${code} before it started:\n${output.slice(-4000)}`));
    });
  });
  let baseUrl: string;
  try {
    baseUrl = await started;
  } catch (error) {
    // A platform that did not come up must not outlive the attempt, nor leave its files behind.
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, "SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    baseUrl,
    wsUrl: `${baseUrl.replace(/^http/, "ws")}/v1/ws`,
    pid,
    fanoutGroup: String(env.FANOUT_GROUP),
    signingKeyPem,
    output: () => output,
    exited,
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          process.kill(pid, "SIGTERM");
          const timer = setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) process.kill(pid, "SIGKILL");
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
