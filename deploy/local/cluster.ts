import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { startEntryProxy } from "./entry-proxy.js";
import { freePort } from "./free-port.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A local multi-process cluster: every role in processes of its own (`ROLE=… npm start`), against engines
 * given by the caller (the launcher of `npm run cluster` starts them the way the tests do), behind one entry
 * URL. What the processes share comes through the engines only: DynamoDB, Kafka, Redis, plus the JWT
 * signing key file that every chat-management node must hold.
 */
export interface ClusterShape {
  readonly gateways: number;
  readonly ingest: number;
  readonly fanout: number;
  readonly chatmgmt: number;
}

export const DEFAULT_SHAPE: ClusterShape = { gateways: 2, ingest: 3, fanout: 2, chatmgmt: 1 };

export interface ClusterNode {
  readonly role: "gateway" | "ingest" | "fanout" | "chatmgmt";
  readonly nodeId: string;
  readonly httpPort: number;
  /** The internal HTTP listener (INTERNAL_PORT): `/admin/ring`, `/inspector`, `/metrics`, detailed `/health`. */
  readonly internalPort: number;
  /** The internal gRPC port (ingest: IngestService, gateway: GatewayService, chatmgmt: ChatService). */
  readonly grpcPort: number | undefined;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Why it exited, once it did. */
  exit: string | undefined;
}

export interface LocalCluster {
  readonly entryUrl: string;
  /**
   * The operator API (`/admin/ring`) on the internal listener of the first chat-management node, which no
   * chaos fault kills. The entry URL, like a production load balancer, does not serve it.
   */
  readonly adminUrl: string;
  readonly nodes: readonly ClusterNode[];
  readonly env: Readonly<Record<string, string>>;
  /**
   * Health of every node now, in the launcher's own words: `ok`, `degraded`, `down` or the exit reason.
   * `ok` is a node whose `/health` answers `status: "healthy"` (the wire word of spec §2, mapped by
   * `healthOf`); callers compare against `ok`, so the wire vocabulary can change without touching them.
   */
  status(): Promise<Array<ClusterNode & { health: string }>>;
  /** SIGKILL one node (chaos), without stopping the rest. */
  kill(nodeId: string): Promise<void>;
  /** Starts a node again with the same id and ports, e.g. after `kill`. */
  restart(nodeId: string): Promise<void>;
  /** SIGTERM every node (each drains), then stop the entry proxy. */
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  readonly shape?: Partial<ClusterShape>;
  /** DYNAMODB_ENDPOINT, REDIS_URL, KAFKA_BROKERS of running engines. */
  readonly engines: Readonly<Record<string, string>>;
  /** Logs, the JWT signing key. */
  readonly dataDir: string;
  readonly entryPort: number;
  readonly host?: string;
  readonly tablePrefix?: string;
  /** Extra environment for every node (e.g. shorter TTLs in tests). */
  readonly env?: Readonly<Record<string, string>>;
  readonly progress?: (line: string) => void;
  /** How long a node may take to answer /health at start. Default 60 s. */
  readonly startTimeoutMs?: number;
}

/**
 * A node's `/health` answer in `status()`'s vocabulary: `healthy` (200) reads `ok`; any other status word
 * (`degraded` with 503) passes through; a body without one reads as its HTTP status code.
 */
async function healthOf(response: Response): Promise<string> {
  const status = ((await response.json()) as { status?: string }).status;
  if (status === "healthy") return "ok";
  return status ?? String(response.status);
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const shape = { ...DEFAULT_SHAPE, ...options.shape };
  const progress = options.progress ?? (() => {});
  const host = options.host ?? "127.0.0.1";
  const dataDir = resolve(options.dataDir);
  const logDir = join(dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const tablePrefix = options.tablePrefix ?? "";
  const dynamodbEndpoint = options.engines.DYNAMODB_ENDPOINT;
  if (dynamodbEndpoint === undefined) throw new Error("the cluster needs DYNAMODB_ENDPOINT");
  // Tables once, before several processes would race to create them.
  const client = createDynamoClient({ endpoint: dynamodbEndpoint, region: "us-east-1" });
  try {
    await ensureTables(client, tablePrefix, (line) => progress(`tables: ${line}`));
  } finally {
    client.destroy();
  }

  const plan: Array<Omit<ClusterNode, "child" | "exit">> = [];
  const add = async (role: ClusterNode["role"], count: number) => {
    for (let i = 1; i <= count; i++) {
      const nodeId = `${role}-${i}`;
      plan.push({
        role,
        nodeId,
        httpPort: await freePort(),
        internalPort: await freePort(),
        grpcPort: role === "fanout" ? undefined : await freePort(),
        logFile: join(logDir, `${nodeId}.log`),
      });
    }
  };
  // Chat management first: gateways fetch its JWKS.
  await add("chatmgmt", shape.chatmgmt);
  await add("ingest", shape.ingest);
  await add("fanout", shape.fanout);
  await add("gateway", shape.gateways);
  const firstChatmgmt = plan.find((node) => node.role === "chatmgmt");
  const chatmgmtUrl = `http://${host}:${firstChatmgmt?.httpPort ?? 0}`;

  const env: Record<string, string> = {
    ...options.engines,
    TABLE_PREFIX: tablePrefix,
    HOST: host,
    INTERNAL_HOST: host,
    DEV_MODE: "true",
    // The entry proxy (on this host) adds X-Forwarded-For; per-IP limits count the address it names.
    TRUSTED_PROXIES: "127.0.0.1/32",
    // Internal gRPC authenticated as in production, so that every call path of the cluster carries the token.
    INTERNAL_GRPC_TOKEN: randomBytes(24).toString("hex"),
    LOG_LEVEL: "info",
    JWT_PRIVATE_KEY_FILE: join(dataDir, "jwt-signing-key.pem"),
    JWKS_URL: `${chatmgmtUrl}/.well-known/jwks.json`,
    EXIT_WITH_PARENT: "true",
    ...options.env,
  };

  const nodes: ClusterNode[] = [];
  const launch = (spec: Omit<ClusterNode, "child" | "exit">): ClusterNode => {
    const log = createWriteStream(spec.logFile, { flags: "a" });
    const child = spawn(process.execPath, ["--import", "tsx", "app/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        ROLE: spec.role,
        NODE_ID: spec.nodeId,
        PORT: String(spec.httpPort),
        INTERNAL_PORT: String(spec.internalPort),
        ...(spec.grpcPort === undefined
          ? {}
          : spec.role === "chatmgmt"
            ? { CHAT_GRPC_PORT: String(spec.grpcPort) }
            : { GRPC_PORT: String(spec.grpcPort) }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const node: ClusterNode = { ...spec, child, exit: undefined };
    child.once("exit", (code, signal) => {
      node.exit = signal === null ? `exited ${code}` : `killed by ${signal}`;
    });
    return node;
  };
  const waitHealthy = async (node: ClusterNode) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (node.exit !== undefined) {
        throw new Error(
          `${node.nodeId} ${node.exit} during start-up; see ${node.logFile}:\n${tailOf(node.logFile)}`,
        );
      }
      const ok = await fetch(`http://${host}:${node.httpPort}/health`, { signal: AbortSignal.timeout(1_000) })
        .then((response) => response.status < 500)
        .catch(() => false);
      if (ok) return;
      if (Date.now() > deadline)
        throw new Error(`${node.nodeId} did not answer /health; see ${node.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const stopNodes = async () => {
    await Promise.all(
      nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.exit !== undefined) return resolve();
            node.child.once("exit", () => resolve());
            node.child.kill("SIGTERM");
            // A node that does not drain in time is killed: the launcher must never hang on exit.
            setTimeout(() => node.child.kill("SIGKILL"), 35_000).unref();
          }),
      ),
    );
  };

  try {
    for (const role of ["chatmgmt", "ingest", "fanout", "gateway"] as const) {
      const group = plan.filter((spec) => spec.role === role).map(launch);
      nodes.push(...group);
      progress(`starting ${group.length} ${role} node(s): ${group.map((n) => n.nodeId).join(", ")}`);
      await Promise.all(group.map(waitHealthy));
    }
  } catch (error) {
    await stopNodes();
    throw error;
  }

  const proxy = await startEntryProxy({
    host,
    port: options.entryPort,
    targets: {
      gateways: nodes.filter((n) => n.role === "gateway").map((n) => `${host}:${n.httpPort}`),
      chatmgmt: nodes.filter((n) => n.role === "chatmgmt").map((n) => `${host}:${n.httpPort}`),
    },
  });

  const find = (nodeId: string): ClusterNode => {
    const node = nodes.find((candidate) => candidate.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    return node;
  };
  return {
    entryUrl: proxy.url,
    adminUrl: `http://${host}:${firstChatmgmt?.internalPort ?? 0}`,
    nodes,
    env,
    status: () =>
      Promise.all(
        nodes.map(async (node) => {
          if (node.exit !== undefined) return { ...node, health: node.exit };
          const health = await fetch(`http://${host}:${node.httpPort}/health`, {
            signal: AbortSignal.timeout(1_000),
          })
            .then(healthOf)
            .catch(() => "down");
          return { ...node, health };
        }),
      ),
    kill: async (nodeId) => {
      const node = find(nodeId);
      if (node.exit !== undefined) return;
      const exited = new Promise<void>((resolve) => node.child.once("exit", () => resolve()));
      node.child.kill("SIGKILL");
      await exited;
    },
    restart: async (nodeId) => {
      const old = find(nodeId);
      if (old.exit === undefined) throw new Error(`${nodeId} is still running`);
      const fresh = launch(old);
      nodes.splice(nodes.indexOf(old), 1, fresh);
      await waitHealthy(fresh);
    },
    stop: async () => {
      await proxy.stop();
      await stopNodes();
    },
  };
}

/** The last lines of a node's log, for an error that says why it did not start. */
function tailOf(file: string, lines = 8): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
