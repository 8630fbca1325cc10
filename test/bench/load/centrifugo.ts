import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import { freePort, waitForPort } from "../../../deploy/local/free-port.js";
import { guardProcesses } from "../../../deploy/local/process-guard.js";
import { processCpuSeconds } from "./process-cpu.js";
import type { Target } from "./protocol.js";

const run = promisify(execFile);

/**
 * Centrifugo v6, the baseline of the groups scenario: built with `go install` into the engines' cache dir
 * (GOBIN), run as a child process on a free loopback port with a generated config, stopped by its pid.
 */

export const CENTRIFUGO_MODULE = "github.com/centrifugal/centrifugo/v6";
export const CENTRIFUGO_VERSION = "v6.9.1";
/** The namespace the groups live in: channel `groups:<chat>`. */
export const CENTRIFUGO_NAMESPACE = "groups";
/** A cold module cache downloads and compiles a few hundred packages; on two busy cores that takes minutes. */
const INSTALL_TIMEOUT_MS = 20 * 60_000;
const START_DEADLINE_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 20;

export type CentrifugoBinary =
  | { readonly binary: string; readonly version: string }
  | { readonly unavailable: string };

/** `go version -m` names the module version a binary was built from (`centrifugo version` says 0.0.0 then). */
async function builtVersion(go: string, binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(go, ["version", "-m", binary]);
    const line = stdout.split("\n").find((l) => l.trim().startsWith(`mod\t${CENTRIFUGO_MODULE}\t`));
    return line?.trim().split("\t")[2];
  } catch {
    return undefined;
  }
}

/** The pinned Centrifugo in `<cacheDir>/go-bin`, installed on first use; a reason when Go or the build fails. */
export async function ensureCentrifugo(
  cacheDir: string,
  progress: (line: string) => void,
): Promise<CentrifugoBinary> {
  const go = "go";
  try {
    await run(go, ["version"]);
  } catch {
    return { unavailable: "Go is not installed (no `go` on PATH), so Centrifugo could not be built" };
  }
  const bin = join(cacheDir, "go-bin");
  const binary = join(bin, "centrifugo");
  const exists = await access(binary, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (exists && (await builtVersion(go, binary)) === CENTRIFUGO_VERSION) {
    return { binary, version: CENTRIFUGO_VERSION };
  }
  await mkdir(bin, { recursive: true });
  progress(`installing Centrifugo: go install ${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION} (GOBIN=${bin})`);
  try {
    await run(go, ["install", `${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION}`], {
      env: { ...process.env, GOBIN: bin },
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n").slice(0, 5).join(" ") : String(error);
    return { unavailable: `go install ${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION} failed: ${detail}` };
  }
  const version = await builtVersion(go, binary);
  if (version !== CENTRIFUGO_VERSION) {
    return { unavailable: `go install produced ${binary} of version ${version ?? "unknown"}` };
  }
  return { binary, version };
}

export interface RunningCentrifugo {
  readonly version: string;
  readonly pid: number;
  /** The bidirectional WebSocket endpoint (JSON protocol). */
  readonly url: string;
  /** The generated config, for the report (secrets left out). */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * A connection of `user`: its `connect` command carries an HS256 token whose `channels` claim subscribes
   * the connection to those channels server-side as it connects.
   */
  target(user: string, channels: readonly string[]): Promise<Target>;
  /** CPU seconds the server process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Memory engine; one namespace with history (size 100, 300 s) and forced recovery, where connected clients
 * may publish (client-side publish: the same path as our `send_message`, one WebSocket frame per message).
 */
export async function startCentrifugo(
  installed: { readonly binary: string; readonly version: string },
  progress: (line: string) => void,
): Promise<RunningCentrifugo> {
  const dir = await mkdtemp(join(tmpdir(), "bench-centrifugo-"));
  const port = await freePort();
  const secret = randomBytes(32).toString("hex");
  const namespace = {
    name: CENTRIFUGO_NAMESPACE,
    history_size: 100,
    history_ttl: "300s",
    force_recovery: true,
    allow_publish_for_client: true,
  };
  const config = {
    http_server: { address: "127.0.0.1", port },
    log: { level: "error" },
    engine: { type: "memory" },
    client: { token: { hmac_secret_key: secret } },
    channel: { namespaces: [namespace] },
    http_api: { key: randomBytes(16).toString("hex") },
    usage_stats: { disabled: true },
    shutdown: { timeout: "2s" },
  };
  const configFile = join(dir, "config.json");
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const child = spawn(installed.binary, ["--config", configFile], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    log.splice(0, Math.max(0, log.length - LOG_TAIL_LINES));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping) progress(`centrifugo (pid ${child.pid}) exited unexpectedly (${signal ?? code})`);
  });
  const within = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  let unguard = () => {};
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (isAlive()) {
      child.kill("SIGTERM");
      if (!(await within(STOP_GRACE_MS))) {
        child.kill("SIGKILL");
        await within(STOP_GRACE_MS);
      }
    }
    unguard();
    await rm(dir, { recursive: true, force: true });
  };
  // An interrupted bench must not leave the server behind: its pid is signalled at exit.
  unguard = guardProcesses(stop, () => [{ pid: child.pid }]);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", reject);
    });
    await waitForPort(port, START_DEADLINE_MS, isAlive);
  } catch (error) {
    await stop();
    throw new Error(`centrifugo on port ${port}: ${String(error)}\n${log.join("\n")}`, { cause: error });
  }
  const pid = child.pid as number;
  progress(`centrifugo ${installed.version} listening on 127.0.0.1:${port} (pid ${pid})`);
  const key = new TextEncoder().encode(secret);
  let commandId = 0;
  return {
    version: installed.version,
    pid,
    url: `ws://127.0.0.1:${port}/connection/websocket`,
    config: {
      ...config,
      client: { token: { hmac_secret_key: "(generated)" } },
      http_api: { key: "(generated)" },
    },
    target: async (user, channels) => {
      const token = await new SignJWT({ channels: [...channels] })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(user)
        .setExpirationTime("2h")
        .sign(key);
      return {
        url: `ws://127.0.0.1:${port}/connection/websocket`,
        hello: JSON.stringify({ id: ++commandId, connect: { token, name: "bench" } }),
      };
    },
    cpuSeconds: () => processCpuSeconds(pid),
    stop,
  };
}
