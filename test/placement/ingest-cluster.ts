import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../deploy/local/free-port.js";
import { waitFor } from "../support/wait-for.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The internal gRPC token of the test clusters: their ingest nodes refuse calls without it, as in production. */
export const TEST_INTERNAL_GRPC_TOKEN = "ingest-cluster-internal-grpc-token-0123456789";

/** An ingest node in a process of its own (`ROLE=ingest npm start`), as a cluster runs it. */
export interface IngestProcess {
  readonly nodeId: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The internal HTTP listener (`/metrics`, `/admin/ring`, detailed `/health`). */
  readonly internalPort: number;
  readonly child: ChildProcess;
  /** stdout+stderr so far, for a failing test's message. */
  output(): string;
  /** `kill -9`: no drain, no leaving the registry; the node's heartbeat simply stops. */
  crash(): Promise<void>;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<void>;
}

export interface ClusterEnv {
  readonly DYNAMODB_ENDPOINT: string;
  readonly REDIS_URL: string;
  readonly KAFKA_BROKERS: string;
  readonly TABLE_PREFIX: string;
  /** Short, so failover is quick in tests: the node is gone this long after its last heartbeat. */
  readonly NODE_TTL_MS: string;
  readonly RING_REFRESH_MS: string;
}

const running = new Set<ChildProcess>();
// Never leave an ingest process behind, even when the test process exits abruptly.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startIngestProcess(
  nodeId: string,
  env: ClusterEnv,
  extra: Readonly<Record<string, string>> = {},
): Promise<IngestProcess> {
  const [grpcPort, httpPort, internalPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      INTERNAL_GRPC_TOKEN: TEST_INTERNAL_GRPC_TOKEN,
      // Outside dev mode a process refuses to start without an admin token of real strength.
      ADMIN_TOKEN: "ingest-cluster-admin-token-5f2c9e81b7d4",
      ...env,
      ...extra,
      ROLE: "ingest",
      NODE_ID: nodeId,
      HOST: "127.0.0.1",
      PORT: String(httpPort),
      INTERNAL_PORT: String(internalPort),
      GRPC_PORT: String(grpcPort),
      LOG_LEVEL: "warn",
      EXIT_WITH_PARENT: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => running.delete(child));
  const healthy = waitFor(
    async () => (await fetch(`http://127.0.0.1:${httpPort}/health`).catch(() => undefined))?.ok === true,
    { timeoutMs: 45_000, intervalMs: 100, what: `ingest ${nodeId} to become healthy` },
  );
  await Promise.race([
    healthy,
    exited.then(() => {
      throw new Error(`ingest ${nodeId} exited during start-up:\n${output}`);
    }),
  ]);
  return {
    nodeId,
    grpcPort,
    httpPort,
    internalPort,
    child,
    output: () => output,
    crash: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
