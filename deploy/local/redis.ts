import { type ChildProcess, execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import type { EngineOptions, RunningEngine } from "./engine.js";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

/** Debian installs the binary in /usr/bin; some images only have /usr/sbin on root's PATH. */
const FALLBACK_DIRS = ["/usr/bin", "/usr/sbin"];
const INSTALL_HINT =
  "install Debian's redis-server package (`sudo apt-get install -y redis-server`) or put a redis-server 7 binary on PATH";
/** Redis with an empty data set answers PING within milliseconds; the rest is slack for a loaded machine. */
const READY_DEADLINE_MS = 10_000;
const PING_INTERVAL_MS = 25;
/** Redis with `--save ""` exits at once on SIGTERM; past this we stop asking. */
const STOP_GRACE_MS = 5_000;
/** A port freed by freePort() can be taken by someone else before redis binds it. */
const START_ATTEMPTS = 3;
/** Last lines of redis-server's own log, quoted when it fails to start. */
const LOG_TAIL_LINES = 20;

/**
 * Debian's `redis-server` as a child process on a free loopback port, in the foreground (not daemonized) so we
 * own its pid and stop exactly that process. Nothing is persisted: an empty temp dir, no RDB, no AOF — so
 * `restart()` (same port) is a restart that lost every key, as a cache node replaced in production.
 */
export async function startRedis(options: EngineOptions): Promise<RunningEngine> {
  const binary = await ensureRedisServer(options.progress);
  const version = await redisVersion(binary);
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      let current = await launch(binary, version, options, await freePort());
      const port = Number(new URL(current.endpoint).port);
      let stopped = false;
      return {
        name: current.name,
        version,
        endpoint: current.endpoint,
        get pid() {
          return current.pid;
        },
        stop: () => {
          stopped = true;
          return current.stop();
        },
        restart: async (signal) => {
          if (stopped) throw new Error(`redis-server on ${current.endpoint} is stopped`);
          await current.stop(signal);
          current = await launch(binary, version, options, port);
        },
      };
    } catch (error) {
      lastError = error;
      if (attempt < START_ATTEMPTS)
        options.progress(`redis-server did not start (${String(error)}); retrying`);
    }
  }
  throw new Error(`redis-server failed to start ${START_ATTEMPTS} times`, { cause: lastError });
}

interface Launched {
  readonly name: string;
  readonly endpoint: string;
  readonly pid: number | undefined;
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

async function launch(
  binary: string,
  version: string,
  options: EngineOptions,
  port: number,
): Promise<Launched> {
  const dir = await mkdtemp(join(tmpdir(), "redis-"));
  const child = spawn(
    binary,
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no"],
      ...["--save", "", "--appendonly", "no", "--dir", dir],
      // As in production (spec §3): under memory pressure evict the keys closest to expiry, never the rest.
      ...["--maxmemory-policy", "volatile-ttl"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const log = captureLog(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  let stopping = false;
  child.once("exit", (code, signal) => {
    if (!stopping)
      options.progress(`redis-server (pid ${child.pid}) exited unexpectedly (${signal ?? code})`);
  });
  const stop = once(async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    stopping = true;
    if (isAlive() && child.pid !== undefined) {
      child.kill(signal);
      if (!(await within(exited, STOP_GRACE_MS))) {
        child.kill("SIGKILL");
        await within(exited, STOP_GRACE_MS);
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", reject);
    });
    await waitForPong(port, isAlive);
  } catch (error) {
    await stop();
    throw new Error(`redis-server on port ${port}: ${String(error)}\n${log().join("\n")}`, { cause: error });
  }
  const endpoint = `redis://127.0.0.1:${port}`;
  options.progress(`redis-server ${version} listening on ${endpoint} (pid ${child.pid})`);
  return { name: "redis-server", endpoint, pid: child.pid, stop };
}

/** Finds redis-server, installing it with apt when we are root on a Debian-like machine. */
async function ensureRedisServer(progress: (line: string) => void): Promise<string> {
  const found = await findExecutable("redis-server");
  if (found !== undefined) return found;
  const aptGet = await findExecutable("apt-get");
  if (process.getuid?.() !== 0 || aptGet === undefined) {
    throw new Error(`redis-server not found on PATH, /usr/bin or /usr/sbin: ${INSTALL_HINT}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  progress("redis-server not found: running apt-get update (as root)");
  await run(aptGet, ["update"], { env, maxBuffer: 64 * 1024 * 1024 });
  progress("installing redis-server: apt-get install -y redis-server");
  await run(aptGet, ["install", "-y", "redis-server"], { env, maxBuffer: 64 * 1024 * 1024 });
  const installed = await findExecutable("redis-server");
  if (installed === undefined)
    throw new Error(`apt-get installed redis-server but it was not found: ${INSTALL_HINT}`);
  progress(`installed ${installed}`);
  return installed;
}

async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== ""), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; try the next.
    }
  }
  return undefined;
}

/** `Redis server v=7.0.15 sha=… malloc=… bits=64 build=…` -> `7.0.15`. */
async function redisVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ["--version"]);
  const match = /\bv=(\S+)/.exec(stdout);
  if (match?.[1] === undefined)
    throw new Error(`cannot read the version from \`${binary} --version\`: ${stdout}`);
  return match[1];
}

/** Polls PING until +PONG: an open port alone is not readiness (Redis answers -LOADING while starting). */
async function waitForPong(port: number, isAlive: () => boolean): Promise<void> {
  const end = Date.now() + READY_DEADLINE_MS;
  let last = "no answer";
  while (Date.now() < end) {
    if (!isAlive()) throw new Error("redis-server exited before answering PING");
    last = await ping(port);
    if (last === "+PONG") return;
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
  }
  throw new Error(`no +PONG within ${READY_DEADLINE_MS} ms (last: ${last})`);
}

/** One PING over a fresh connection; resolves with the first reply line or the connection error. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    const finish = (line: string) => {
      socket.destroy();
      resolve(line);
    };
    socket.setTimeout(1_000, () => finish("timeout"));
    socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      const end = reply.indexOf("\r\n");
      if (end >= 0) finish(reply.slice(0, end));
    });
    socket.once("error", (error) => finish(error.message));
    socket.once("close", () => finish(reply || "closed"));
  });
}

/** Keeps the last lines of the child's output; the pipes must be drained or a chatty child would block. */
function captureLog(child: ChildProcess): () => string[] {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((line) => line.trim() !== ""),
    );
    lines.splice(0, Math.max(0, lines.length - LOG_TAIL_LINES));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => [...lines];
}

async function within(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first call runs `action`; later calls share its result. */
function once<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let done: Promise<void> | undefined;
  return (...args) => {
    done ??= action(...args);
    return done;
  };
}
