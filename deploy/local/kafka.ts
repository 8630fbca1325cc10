import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import kafkajs from "kafkajs";
import type { EngineOptions, RunningEngine } from "./engine.js";
import { freePort, waitForPort } from "./free-port.js";
import { clusterId, log4jProperties, serverProperties } from "./kafka-config.js";
import { describeFailure, ensureJars, kafkaVersion, requireJava17 } from "./kafka-jars.js";

const run = promisify(execFile);

/** A cold JVM start, storage format and controller election take 5–15 s on two cores; the rest is slack. */
const START_DEADLINE_MS = 90_000;
/** A restart also reloads every partition's log, which takes minutes on a busy two-core machine. */
const RESTART_DEADLINE_MS = 240_000;
/** A clean shutdown of a combined broker/controller takes a few seconds; then we stop asking. */
const STOP_GRACE_MS = 20_000;
const ADMIN_POLL_INTERVAL_MS = 200;
/** Lines of the broker's own log quoted when it fails to start. */
const LOG_TAIL_LINES = 40;

/** Where a broker listens and what it tells clients to connect to. */
export interface KafkaOptions extends EngineOptions {
  /** The listening port (default: a free one). */
  readonly port?: number;
  /**
   * The port clients are told to connect to, when it is not the listening one: a TCP proxy in front of the
   * broker (the chaos harness slows down and cuts that path), so every client connection goes through it.
   */
  readonly advertisedPort?: number;
}

/**
 * Apache Kafka 4.x as one KRaft node in combined mode (broker + controller) on loopback, straight from Maven
 * Central's jars: no Docker, no release tarball. Recipe: shared/spec/kafka-local.md, following Kafka's own
 * `kafka-storage.sh` and `kafka-server-start.sh`. Data lives in a temp dir that `stop()` deletes; `restart()`
 * stops the JVM and starts it again on the same port and the same data, as a crashed or upgraded broker.
 */
export async function startKafka(options: KafkaOptions): Promise<RunningEngine> {
  const startedAt = Date.now();
  await requireJava17();
  const version = await kafkaVersion();
  const classpath = `${await ensureJars(version, options)}/*`;
  const port = options.port ?? (await freePort());
  let controllerPort = await freePort();
  while (controllerPort === port || controllerPort === options.advertisedPort)
    controllerPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "kafka-"));
  const files = {
    properties: join(dir, "server.properties"),
    log4j: join(dir, "log4j2.properties"),
    serverLog: join(dir, "server.log"),
    console: join(dir, "console.log"),
  };
  const jvmLogging = `-Dlog4j2.configurationFile=${files.log4j}`;
  await writeFile(
    files.properties,
    serverProperties(port, options.advertisedPort ?? port, controllerPort, join(dir, "data")),
  );
  await writeFile(files.log4j, log4jProperties(files.serverLog));

  const cluster = clusterId();
  options.progress(`kafka ${version}: formatting storage in ${dir}`);
  try {
    await run(
      "java",
      [
        jvmLogging,
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster,
        "-c",
        files.properties,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`kafka ${version}: formatting storage failed: ${describeFailure(error)}`, {
      cause: error,
    });
  }

  const endpoint = `127.0.0.1:${port}`;
  /** Starts the JVM on the formatted storage and waits until it serves admin and group requests. */
  const launch = async (deadlineMs: number): Promise<ChildProcess> => {
    // The start deadline counts from here: a first download may take long on a slow network.
    const deadline = Date.now() + deadlineMs;
    // Whatever the JVM itself prints (crash reports, a log4j misconfiguration) goes to a file, never our stdout.
    const consoleFd = openSync(files.console, "a");
    const heap = ["-Xms256m", "-Xmx512m", "-XX:+UseG1GC"];
    const child = spawn(
      "java",
      [...heap, "-Djava.awt.headless=true", jvmLogging, "-cp", classpath, "kafka.Kafka", files.properties],
      // Not detached: the broker stays in our process group, so a Ctrl-C in the terminal reaches it too.
      { stdio: ["ignore", consoleFd, consoleFd] },
    );
    closeSync(consoleFd);
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
      const isAlive = () => child.exitCode === null && child.signalCode === null;
      await waitForPort(port, deadline - Date.now(), isAlive);
      await waitForAdmin(endpoint, cluster, deadline, isAlive);
      return child;
    } catch (error) {
      await terminator(child)("SIGKILL");
      const tail = await logTail(files.serverLog, files.console);
      throw new Error(`kafka ${version} on ${endpoint} did not become ready: ${String(error)}\n${tail}`, {
        cause: error,
      });
    }
  };

  let child: ChildProcess;
  try {
    child = await launch(START_DEADLINE_MS);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= terminator(child)("SIGTERM").then(() => rm(dir, { recursive: true, force: true }));
    return stopped;
  };
  options.progress(
    `kafka ${version} ready on ${endpoint} in ${Date.now() - startedAt} ms (pid ${child.pid})`,
  );
  return {
    name: "kafka",
    version,
    endpoint,
    get pid() {
      return child.pid;
    },
    stop,
    restart: async (signal) => {
      if (stopped !== undefined) throw new Error(`kafka on ${endpoint} is stopped`);
      await terminator(child)(signal);
      child = await launch(RESTART_DEADLINE_MS);
    },
  };
}

/**
 * Stops our own pid: SIGTERM lets Kafka's shutdown hook close the logs cleanly (SIGKILL past the grace period);
 * SIGKILL is a crash.
 */
function terminator(child: ChildProcess): (signal: "SIGTERM" | "SIGKILL") => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  return async (signal) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (!(await within(exited, STOP_GRACE_MS))) {
      child.kill("SIGKILL");
      await within(exited, STOP_GRACE_MS);
    }
  };
}

/**
 * Polls an admin `listTopics` until the broker answers (the port opens before the controller has a leader)
 * and the group coordinator serves offsets.
 * The cluster id proves it is our broker: a port that freePort() saw free can be taken before the JVM binds it.
 */
async function waitForAdmin(
  endpoint: string,
  cluster: string,
  deadline: number,
  isAlive: () => boolean,
): Promise<void> {
  const { Kafka, logLevel } = kafkajs;
  const kafka = new Kafka({
    brokers: [endpoint],
    clientId: "engine-readiness",
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error("the broker process exited", { cause: lastError });
    const admin = kafka.admin();
    let answered: string | undefined;
    try {
      await admin.connect();
      await admin.listTopics();
      answered = (await admin.describeCluster()).clusterId;
      // Ready means consumer groups work too: the first group call creates __consumer_offsets, and its
      // coordinator answers COORDINATOR_LOAD_IN_PROGRESS until that topic is loaded.
      if (answered === cluster) await admin.fetchOffsets({ groupId: "engine-readiness", topics: [] });
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (answered === cluster) return;
    if (answered !== undefined)
      throw new Error(`${endpoint} answers for another Kafka cluster (${answered})`);
    await new Promise((resolve) => setTimeout(resolve, ADMIN_POLL_INTERVAL_MS));
  }
  throw new Error(`no answer to listTopics within ${START_DEADLINE_MS} ms`, { cause: lastError });
}

/** `<cacheDir>/kafka-<version>/libs`, fetched by Maven on first use. */

/**
 * What to quote from the broker's log on a failed start: its ERROR/FATAL entries (the cause, e.g. a port bound
 * elsewhere, is often followed by hundreds of lines of shutdown and config dump) and then its last lines.
 */
async function logTail(...files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const lines = (await readFile(file, "utf8").catch(() => "")).trimEnd().split("\n");
    const errors = lines.flatMap((line, index) =>
      /^\[[^\]]+\] (ERROR|FATAL) /.test(line) ? [line, lines[index + 1] ?? ""] : [],
    );
    if (errors.length > 0)
      parts.push(`--- errors in ${file}:\n${errors.slice(0, LOG_TAIL_LINES).join("\n")}`);
    if (lines.join("").trim() !== "") {
      parts.push(`--- last lines of ${file}:\n${lines.slice(-LOG_TAIL_LINES / 2).join("\n")}`);
    }
  }
  return parts.join("\n") || "(the broker wrote no log)";
}

function within(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
