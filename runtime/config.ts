import { hostname } from "node:os";
import { z } from "zod";
import { AppError } from "./errors.js";

/**
 * Every option of every role, declared once: its environment variable, its command-line flag, its default
 * and what it means. `loadConfig` validates the whole set once at start-up; `--help` and the README's
 * configuration table are printed from this list, so they cannot drift from it.
 */
interface OptionSpec<T extends z.ZodType> {
  readonly env: string;
  readonly description: string;
  readonly schema: T;
  /** Shown in help instead of the literal default when the default is computed. */
  readonly defaultLabel?: string;
}

const bool = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"])])
  .transform((value) => value === true || value === "true" || value === "1" || value === "yes");

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z.string().url().optional();

export const ROLES = ["all", "gateway", "ingest", "fanout", "chatmgmt"] as const;
export type Role = (typeof ROLES)[number];

const option = <T extends z.ZodType>(spec: OptionSpec<T>): OptionSpec<T> => spec;

export const OPTIONS = {
  role: option({
    env: "ROLE",
    description: "Which role this process runs: `all` (embedded, every role in one process) or one role.",
    schema: z.enum(ROLES).default("all"),
  }),
  host: option({
    env: "HOST",
    description: "Interface the HTTP/WebSocket server binds to (`0.0.0.0` to accept remote clients).",
    schema: z.string().min(1).default("127.0.0.1"),
  }),
  port: option({
    env: "PORT",
    description:
      "Port of the HTTP server: REST `/api/v1`, WebSocket `/v1/ws`, `/health` (0 = any free port).",
    schema: port.default(8080),
  }),
  grpcPort: option({
    env: "GRPC_PORT",
    description: "Port of the internal gRPC server (IngestService) of an ingest process (0 = any free port).",
    schema: port.default(7070),
  }),
  dataDir: option({
    env: "DATA_DIR",
    description: "Where the embedded DynamoDB (dynalite, LevelDB) keeps its files when no endpoint is given.",
    schema: z.string().min(1).default("./data"),
  }),
  nodeId: option({
    env: "NODE_ID",
    description: "Stable name of this node in routing, liveness and logs.",
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, `.`, `_`, `-` (1-64)"),
    defaultLabel: "{hostname}-{pid}",
  }),
  logLevel: option({
    env: "LOG_LEVEL",
    description: "pino log level: fatal, error, warn, info, debug, trace, silent.",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  }),
  devMode: option({
    env: "DEV_MODE",
    description:
      "Development conveniences (the OTP of the dev SMS sender is readable over REST). Never in production.",
    schema: bool.optional(),
    defaultLabel: "true when ROLE=all, else false",
  }),
  dynamodbEndpoint: option({
    env: "DYNAMODB_ENDPOINT",
    description:
      "DynamoDB API endpoint (a dynalite server, DynamoDB Local, or AWS). Unset: dynalite in-process under DATA_DIR.",
    schema: optionalUrl,
  }),
  awsRegion: option({
    env: "AWS_REGION",
    description: "AWS region of the DynamoDB client.",
    schema: z.string().min(1).default("us-east-1"),
  }),
  tablePrefix: option({
    env: "TABLE_PREFIX",
    description: "Prefix of every DynamoDB table name, to keep environments apart on one endpoint.",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]*$/)
      .default(""),
  }),
  kafkaBrokers: option({
    env: "KAFKA_BROKERS",
    description: "Comma-separated Kafka bootstrap brokers (`host:port`). Unset: the in-process event log.",
    schema: z
      .string()
      .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "host:port[,host:port...]")
      .optional(),
  }),
  messagesPartitions: option({
    env: "MESSAGES_PARTITIONS",
    description: "Partitions of `messages.persisted` (64 in production, D10).",
    schema: positiveInt.default(8),
  }),
  lifecyclePartitions: option({
    env: "LIFECYCLE_PARTITIONS",
    description: "Partitions of `memberships.changed` and `chats.created` (16 in production, D10).",
    schema: positiveInt.default(4),
  }),
  deadLetterPartitions: option({
    env: "DEAD_LETTER_PARTITIONS",
    description: "Partitions of `dead_letters` (8 in production, D10).",
    schema: positiveInt.default(2),
  }),
  redisUrl: option({
    env: "REDIS_URL",
    description:
      "Redis for connection routing, presence and node liveness (`redis://host:port`). Unset: in-memory.",
    schema: optionalUrl,
  }),
  nodeTtlMs: option({
    env: "NODE_TTL_MS",
    description: "A node missing heartbeats this long is not live; it beats every third of it.",
    schema: positiveInt.min(300).default(15_000),
  }),
  shutdownGraceMs: option({
    env: "SHUTDOWN_GRACE_MS",
    description: "How long a stopping process lets connections and actors drain before it closes them.",
    schema: positiveInt.default(10_000),
  }),
} as const;

type Options = typeof OPTIONS;
type Parsed = { [K in keyof Options]: z.output<Options[K]["schema"]> };

export interface Config extends Omit<Parsed, "devMode" | "nodeId"> {
  readonly devMode: boolean;
  readonly nodeId: string;
}

/** `DATA_DIR` -> `--data-dir`. */
export const flagOf = (env: string): string => `--${env.toLowerCase().replaceAll("_", "-")}`;

export interface ConfigSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly argv?: readonly string[];
}

/** Parses `--flag value`, `--flag=value` and bare boolean `--flag` into environment-style names. */
function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const byFlag = new Map(Object.values(OPTIONS).map((spec) => [flagOf(spec.env), spec.env]));
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      throw new AppError("CONFIG_INVALID", `unexpected argument "${arg}" (see --help)`);
    }
    const [flag = "", inline] = arg.split(/=(.*)/s, 2);
    const env = byFlag.get(flag);
    if (env === undefined) throw new AppError("CONFIG_INVALID", `unknown option ${flag} (see --help)`);
    const next = argv[i + 1];
    if (inline !== undefined) out[env] = inline;
    else if (next !== undefined && !next.startsWith("--")) {
      out[env] = next;
      i++;
    } else out[env] = "true";
  }
  return out;
}

/**
 * Validates the configuration once. Flags win over environment variables; empty variables count as unset.
 * Throws AppError(CONFIG_INVALID) listing every problem at once.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const merged: Record<string, string | undefined> = {};
  for (const spec of Object.values(OPTIONS)) {
    const value = env[spec.env];
    merged[spec.env] = value === "" ? undefined : value;
  }
  Object.assign(merged, flagsToEnv(sources.argv ?? []));

  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS)) {
    const result = (spec.schema as z.ZodType).safeParse(merged[spec.env]);
    if (result.success) parsed[key] = result.data;
    else if (key === "nodeId" && merged[spec.env] === undefined) parsed[key] = undefined;
    else problems.push(`${spec.env}: ${result.error.issues.map((issue) => issue.message).join("; ")}`);
  }
  if (problems.length > 0) {
    throw new AppError("CONFIG_INVALID", `invalid configuration:\n  ${problems.join("\n  ")}`, {
      details: { problems },
    });
  }
  const values = parsed as Parsed;
  return {
    ...values,
    devMode: values.devMode ?? values.role === "all",
    nodeId:
      values.nodeId ??
      `${hostname()
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, 40)}-${process.pid}`,
  };
}

function defaultText(spec: OptionSpec<z.ZodType>): string {
  if (spec.defaultLabel !== undefined) return spec.defaultLabel;
  const result = spec.schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return "(unset)";
  return result.data === "" ? "(empty)" : String(result.data);
}

/** The option table for `--help`. */
export function configHelp(): string {
  return Object.values(OPTIONS)
    .map(
      (spec) =>
        `  ${flagOf(spec.env).padEnd(26)} ${spec.env.padEnd(22)} default: ${defaultText(spec)}\n      ${spec.description}`,
    )
    .join("\n");
}

/** The same table as Markdown, for the README. */
export function configMarkdown(): string {
  const rows = Object.values(OPTIONS).map(
    (spec) =>
      `| \`${spec.env}\` | \`${flagOf(spec.env)}\` | \`${defaultText(spec)}\` | ${spec.description} |`,
  );
  return ["| Variable | Flag | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}
