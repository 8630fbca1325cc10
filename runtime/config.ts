import { hostname } from "node:os";
import { z } from "zod";
import { AppError } from "./errors.js";
import { parseCidr } from "./http/client-address.js";
import { DEFAULT_ACTIVATION_LEASE_MS } from "./placement/activation-recovery.js";
import { DEFAULT_WEIGHT, MAX_WEIGHT, NODE_ID_PATTERN } from "./placement/ring-config.js";
import { FANOUT_GROUP } from "./topics.js";

/**
 * D16: the caps of one block (one conditional put). 50 messages: a hot chat's blocks fill at its measured
 * rate while an idle chat still writes a block of one; 256 KiB of content (plus 256 per message) stays well
 * inside DynamoDB's 400 KB item limit.
 */
export const BLOCK_DEFAULTS = { maxMessages: 50, maxBytes: 256 * 1024 } as const;

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

/** The internal HTTP listener's port unless INTERNAL_PORT says otherwise. */
export const DEFAULT_INTERNAL_PORT = 9090;

const option = <T extends z.ZodType>(spec: OptionSpec<T>): OptionSpec<T> => spec;

export const OPTIONS = {
  role: option({
    env: "ROLE",
    description: "Which role this process runs: `all` (embedded, every role in one process) or one role.",
    schema: z.enum(ROLES).default("all"),
  }),
  host: option({
    env: "HOST",
    description:
      "Interface the public HTTP/WebSocket listener binds to (`0.0.0.0` to accept remote clients); the internal one has INTERNAL_HOST.",
    schema: z.string().min(1).default("127.0.0.1"),
  }),
  port: option({
    env: "PORT",
    description:
      "Port of the public HTTP listener: REST `/api/v1`, WebSocket `/v1/ws`, the browser client and `/health` (its verdict only); never the operator API, `/inspector` or `/metrics` (INTERNAL_PORT). 0 = any free port.",
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
    schema: z.string().regex(NODE_ID_PATTERN, "letters, digits, `.`, `_`, `-` (1-64)"),
    defaultLabel: "{hostname}-{pid}",
  }),
  logLevel: option({
    env: "LOG_LEVEL",
    description: "pino log level: fatal, error, warn, info, debug, trace, silent.",
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  }),
  // --- dev mode (app/production-requirements.ts): on only where nobody else can reach it ---
  devMode: option({
    env: "DEV_MODE",
    description:
      'Development conveniences: the dev SMS sender logs one-time codes and serves them at `/api/v1/dev/otp`, the operator API accepts `dev-admin-token`, `/inspector` is open. Off, the process runs in production mode and refuses to start without the settings of README "Running in production". `true` on a non-loopback HOST or INTERNAL_HOST also needs ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS.',
    schema: bool.optional(),
    defaultLabel:
      "true when ROLE=all and every listener is loopback (127.0.0.0/8, ::1, localhost), else false",
  }),
  allowDevModeOnPublicAddress: option({
    env: "ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS",
    description:
      "Lets DEV_MODE=true run on a non-loopback address, where anyone who reaches it can read any phone's one-time code and use the operator API; a warning is logged at every start. Does not turn dev mode on by itself.",
    schema: bool.default(false),
  }),
  dynamodbEndpoint: option({
    env: "DYNAMODB_ENDPOINT",
    description:
      "DynamoDB API endpoint (a dynalite server, DynamoDB Local, or AWS). Unset: dynalite on a worker thread of this process, data under DATA_DIR.",
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
  exitWithParent: option({
    env: "EXIT_WITH_PARENT",
    description:
      "Stop gracefully when the process that started this one goes away (set by `npm run cluster` and the test harnesses, so a crashed launcher leaves no node behind).",
    schema: bool.default(false),
  }),
  // --- internal surface (runtime/http/internal-listener.ts, runtime/grpc/internal-token.ts): what only the
  // platform's own pods and its operators reach; the public listener never serves it ---
  internalHost: option({
    env: "INTERNAL_HOST",
    description:
      "Interface of the internal HTTP listener: operator API `/admin/ring`, `/inspector`, `/metrics` and the detailed `/health` (`0.0.0.0` in containers, where a NetworkPolicy or security group keeps it private; never route it from a load balancer).",
    schema: z.string().min(1).default("127.0.0.1"),
  }),
  internalPort: option({
    env: "INTERNAL_PORT",
    description:
      "Port of the internal HTTP listener (0 = any free port). A process whose PORT is 0 (tests, tools) takes any free one too, so that several run side by side.",
    schema: port.optional(),
    defaultLabel: "9090 (0 when PORT=0)",
  }),
  internalGrpcToken: option({
    env: "INTERNAL_GRPC_TOKEN",
    description:
      "Shared secret (>= 16 chars) that every internal gRPC call (IngestService, GatewayService, ChatService) carries as `x-internal-token` metadata and every internal gRPC server checks; a call without it fails with UNAUTHENTICATED. Unset: internal gRPC is open, which only dev mode allows.",
    schema: z.string().min(16).optional(),
  }),
  internalGrpcTokenFile: option({
    env: "INTERNAL_GRPC_TOKEN_FILE",
    description:
      "File holding INTERNAL_GRPC_TOKEN (a mounted secret), read once at start-up; surrounding whitespace is ignored. Set one of the two, not both.",
    schema: z.string().min(1).optional(),
  }),
  // --- placement (runtime/placement/): the ring, routing to owners, the operator API ---
  ringRefreshMs: option({
    env: "RING_REFRESH_MS",
    description:
      "How often a node re-reads the ring configuration and the live ingest nodes (D5); callers told NOT_OWNER refresh at once.",
    schema: positiveInt.min(50).default(1_000),
  }),
  ringAutoJoin: option({
    env: "RING_AUTO_JOIN",
    description:
      "An ingest node that is not a ring member adds itself at start-up (an operator's `drain` stays in force). `false`: operators add nodes with `npm run ring -- add`.",
    schema: bool.default(true),
  }),
  ringWeight: option({
    env: "RING_WEIGHT",
    description: "Weight an ingest node joins the ring with (relative share of chats).",
    schema: positiveInt.max(MAX_WEIGHT).default(DEFAULT_WEIGHT),
  }),
  activationSweepMs: option({
    env: "ACTIVATION_SWEEP_MS",
    description:
      "How often an ingest node looks for chats it owns whose previous holder died with unpublished messages (invariant 5); a node leaving triggers a sweep at once.",
    schema: positiveInt.min(100).default(30_000),
  }),
  blockMaxMessages: option({
    env: "BLOCK_MAX_MESSAGES",
    description:
      "D16 group commit: most messages one block item (one conditional put) holds. Sends that arrive while a chat's write is in flight form its next block; an idle chat writes a block of one at once.",
    schema: positiveInt.max(1_000).default(BLOCK_DEFAULTS.maxMessages),
  }),
  blockMaxBytes: option({
    env: "BLOCK_MAX_BYTES",
    description:
      "D16 group commit: most bytes of content (plus 256 per message) one block holds; DynamoDB items hold at most 400 KB.",
    schema: positiveInt.min(8_192).max(350_000).default(BLOCK_DEFAULTS.maxBytes),
  }),
  activationLeaseMs: option({
    env: "ACTIVATION_LEASE_MS",
    description:
      "An activation marker not refreshed for this long is taken as its holder's last (the holder refreshes it before writing once half of it has passed), so the chat's owner removes it after recovering the chat; node clocks must agree to well within half of it.",
    schema: positiveInt.min(1_000).default(DEFAULT_ACTIVATION_LEASE_MS),
  }),
  routingBudgetMs: option({
    env: "ROUTING_BUDGET_MS",
    description:
      "How long a call to a chat's owner may spend on retries (NOT_OWNER, an unreachable node) before it fails with SERVICE_UNAVAILABLE; covers NODE_TTL_MS plus a ring refresh, so failovers delay sends instead of failing them.",
    schema: positiveInt.default(20_000),
  }),
  adminToken: option({
    env: "ADMIN_TOKEN",
    description:
      "Bearer token of the operator API (`/admin/ring`, `npm run ring`). Unset: the admin API is disabled, except in dev mode, where it is `dev-admin-token`.",
    schema: z.string().min(8).optional(),
  }),
  // --- fanout (actors/fanout/): consumer group, member cache, pushes to gateways ---
  fanoutGroup: option({
    env: "FANOUT_GROUP",
    description:
      "Kafka consumer group of the fanout workers (D10: `fanout-workers`). Deployments that share one Kafka cluster and its topics need a group each, or one's workers take the other's partitions.",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,200}$/, "letters, digits, `.`, `_`, `-`")
      .default(FANOUT_GROUP),
  }),
  fanoutDeliverTimeoutMs: option({
    env: "FANOUT_DELIVER_TIMEOUT_MS",
    description:
      "Budget of one batched Deliver call to a gateway; a slower gateway is skipped, never retried (its clients heal by sync).",
    schema: positiveInt.default(1_000),
  }),
  fanoutMemberCacheTtlMs: option({
    env: "FANOUT_MEMBER_CACHE_TTL_MS",
    description:
      "Longest a fanout worker trusts a cached member list without a `memberships.changed` event of the chat (spec: 300 s).",
    schema: positiveInt.default(300_000),
  }),
  fanoutMemberCacheMaxChats: option({
    env: "FANOUT_MEMBER_CACHE_MAX_CHATS",
    description: "Chats whose member lists a fanout worker caches (least recently used dropped first).",
    schema: positiveInt.default(10_000),
  }),
  fanoutGatewayRefreshMs: option({
    env: "FANOUT_GATEWAY_REFRESH_MS",
    description:
      "How often a fanout worker re-reads the live gateways (their addresses; the broadcast list while Redis is down).",
    schema: positiveInt.default(5_000),
  }),
  fanoutMaxDeliveriesPerCall: option({
    env: "FANOUT_MAX_DELIVERIES_PER_CALL",
    description: "Most deliveries (recipient x message) in one Deliver call; larger batches are split.",
    schema: positiveInt.default(1_000),
  }),
  fanoutPacingImmediateMembers: option({
    env: "FANOUT_PACING_IMMEDIATE_MEMBERS",
    description:
      "A message to a chat of up to this many members goes to every online recipient at once; larger chats get this many at once and the rest paced.",
    schema: positiveInt.default(50),
  }),
  fanoutPacingRatePerSec: option({
    env: "FANOUT_PACING_RATE_PER_SEC",
    description:
      "Recipients per second past the immediate ones, for chats up to FANOUT_PACING_LARGE_CHAT_MEMBERS members (0 = no pacing).",
    schema: z.coerce.number().int().min(0).default(100),
  }),
  fanoutPacingLargeChatMembers: option({
    env: "FANOUT_PACING_LARGE_CHAT_MEMBERS",
    description: "Chats above this many members are paced at FANOUT_PACING_LARGE_RATE_PER_SEC instead.",
    schema: positiveInt.default(200),
  }),
  fanoutPacingLargeRatePerSec: option({
    env: "FANOUT_PACING_LARGE_RATE_PER_SEC",
    description: "Recipients per second past the immediate ones, for the largest chats (0 = no pacing).",
    schema: z.coerce.number().int().min(0).default(50),
  }),
  // --- SMS delivery of one-time codes (runtime/ports/sms-sender.ts, runtime/adapters/sns/) ---
  smsSender: option({
    env: "SMS_SENDER",
    description:
      "Who delivers one-time codes where chat management runs: `sns` (AWS SNS transactional SMS) or `dev` (logs the code and serves it at `/api/v1/dev/otp`; only in dev mode). Production mode requires `sns`.",
    schema: z.enum(["dev", "sns"]).optional(),
    defaultLabel: "dev in dev mode, else unset",
  }),
  snsRegion: option({
    env: "SNS_REGION",
    description: "AWS region of the SNS client that sends SMS (credentials: the AWS SDK's default chain).",
    schema: z.string().min(1).optional(),
    defaultLabel: "AWS_REGION",
  }),
  snsEndpoint: option({
    env: "SNS_ENDPOINT",
    description: "SNS API endpoint instead of AWS's (a local stand-in). Unset: AWS SNS of SNS_REGION.",
    schema: optionalUrl,
  }),
  smsSendTimeoutMs: option({
    env: "SMS_SEND_TIMEOUT_MS",
    description:
      "Longest one SMS send may take; past it request-otp answers 503 and keeps no code (no retry: a retried SMS could arrive twice).",
    schema: positiveInt.default(5_000),
  }),
  // --- chat management (chatmgmt/): auth, OTP, sessions, REST/gRPC ---
  chatGrpcPort: option({
    env: "CHAT_GRPC_PORT",
    description:
      "Port of the chat-management gRPC server (ChatService) of a chatmgmt process (0 = any free port).",
    schema: port.default(7072),
  }),
  jwtPrivateKeyFile: option({
    env: "JWT_PRIVATE_KEY_FILE",
    description:
      "PEM (PKCS#8) RSA private key that signs access tokens; created with a new RSA-2048 key if missing. Every chatmgmt process of a cluster must share it.",
    schema: z.string().min(1).optional(),
    defaultLabel: "{DATA_DIR}/jwt-signing-key.pem",
  }),
  accessTokenTtlS: option({
    env: "ACCESS_TOKEN_TTL_S",
    description: "Lifetime of access JWTs in seconds (D11: 15-60 min).",
    schema: positiveInt.min(60).max(3600).default(3600),
  }),
  refreshTokenTtlS: option({
    env: "REFRESH_TOKEN_TTL_S",
    description: "Lifetime of a session and its refresh tokens in seconds; rotation never extends it.",
    schema: positiveInt.default(30 * 24 * 3600),
  }),
  otpPepper: option({
    env: "OTP_PEPPER",
    description:
      "Secret key of the HMAC under which OTP codes are stored (>= 16 chars). Unset: a random one per process (pending codes die with it).",
    schema: z.string().min(16).optional(),
  }),
  otpTtlS: option({
    env: "OTP_TTL_S",
    description: "How long a one-time code is valid, in seconds.",
    schema: positiveInt.default(300),
  }),
  otpMaxAttempts: option({
    env: "OTP_MAX_ATTEMPTS",
    description: "Wrong codes allowed per code; reaching it locks the phone out.",
    schema: positiveInt.default(5),
  }),
  otpLockoutS: option({
    env: "OTP_LOCKOUT_S",
    description: "How long a phone is locked out after too many wrong codes, in seconds.",
    schema: positiveInt.default(900),
  }),
  otpRequestsPerPhone: option({
    env: "OTP_REQUESTS_PER_PHONE",
    description: "Codes a phone number may request per OTP_REQUEST_WINDOW_S.",
    schema: positiveInt.default(3),
  }),
  otpRequestsPerIp: option({
    env: "OTP_REQUESTS_PER_IP",
    description: "Codes one client IP may request per OTP_REQUEST_WINDOW_S.",
    schema: positiveInt.default(10),
  }),
  otpRequestWindowS: option({
    env: "OTP_REQUEST_WINDOW_S",
    description: "Window of the per-phone and per-IP OTP request limits, in seconds.",
    schema: positiveInt.default(900),
  }),
  maxSessionsPerUser: option({
    env: "MAX_SESSIONS_PER_USER",
    description: "Sessions a user may hold; a new login evicts the oldest beyond it.",
    schema: positiveInt.default(5),
  }),
  maxGroupMembers: option({
    env: "MAX_GROUP_MEMBERS",
    description: "Largest group chat, owner included (D9).",
    schema: positiveInt.min(2).default(100),
  }),
  restReadsPerMinute: option({
    env: "REST_READS_PER_MINUTE",
    description: "Authenticated REST reads (GET) one user may make per minute (spec §1).",
    schema: positiveInt.default(300),
  }),
  restWritesPerMinute: option({
    env: "REST_WRITES_PER_MINUTE",
    description: "Authenticated REST writes one user may make per minute (spec §1).",
    schema: positiveInt.default(60),
  }),
  restUnauthenticatedPerMinute: option({
    env: "REST_UNAUTHENTICATED_PER_MINUTE",
    description:
      "REST requests without a valid bearer token (401s, verify-otp, refresh, `GET /api/v1/`) one client IP may make per minute (spec §1: generous; request-otp has OTP_REQUESTS_PER_IP).",
    schema: positiveInt.default(1000),
  }),
  apiDocumentationUrl: option({
    env: "API_DOCUMENTATION_URL",
    description: "`documentation_url` announced by `GET /api/v1/` (spec §2). Unset: null.",
    schema: optionalUrl,
  }),
  // --- client addresses and abuse limits (runtime/http/client-address.ts, chatmgmt/): who a request comes
  // from behind load balancers, OTP verification limits, group limits ---
  trustedProxies: option({
    env: "TRUSTED_PROXIES",
    description:
      "Comma-separated CIDRs (IPv4 or IPv6, e.g. `10.0.0.0/8,2001:db8::/32`; a bare address is one host) of the load balancers and proxies whose `X-Forwarded-For` entries are believed: the per-IP limits count the first untrusted address walking the header from the right. Empty: nobody is trusted (not even loopback) and the socket's peer is the client.",
    schema: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ""),
      )
      .refine((cidrs) => cidrs.every((cidr) => parseCidr(cidr) !== undefined), "a list of IPv4/IPv6 CIDRs"),
    defaultLabel: "(empty)",
  }),
  otpVerifiesPerPhone: option({
    env: "OTP_VERIFIES_PER_PHONE",
    description:
      "verify-otp attempts (right or wrong, in any state of the code) a phone number may get per OTP_VERIFY_WINDOW_S (spec §3.4: 5 per 5 min).",
    schema: positiveInt.default(5),
  }),
  otpVerifiesPerIp: option({
    env: "OTP_VERIFIES_PER_IP",
    description:
      "verify-otp attempts one client IP may make per OTP_VERIFY_WINDOW_S, counted before the phone's: an attacker who exhausts victims' per-phone limits from one address spends this many attempts per OTP_VERIFIES_PER_PHONE phones.",
    schema: positiveInt.default(10),
  }),
  otpVerifyWindowS: option({
    env: "OTP_VERIFY_WINDOW_S",
    description: "Window of the per-phone and per-IP verify-otp limits, in seconds.",
    schema: positiveInt.default(300),
  }),
  groupsCreatedPerDay: option({
    env: "GROUPS_CREATED_PER_DAY",
    description: "Group chats one user may create per UTC day (spec: 20); the next is 429 RATE_LIMITED.",
    schema: positiveInt.default(20),
  }),
  maxGroupsPerUser: option({
    env: "MAX_GROUPS_PER_USER",
    description:
      "Group chats one user may own, i.e. have created (spec: 500; ownership never moves); the next is 400 INVALID_OPERATION.",
    schema: positiveInt.default(500),
  }),
  // Connection plane: these are the gateway's defaults (gateway/limits.ts reads them from here and says what
  // each limit guards).
  jwksUrl: option({
    env: "JWKS_URL",
    description:
      "Chat management's JWKS (`.../.well-known/jwks.json`) a gateway verifies access tokens with; cached, refetched on an unknown `kid`. Unset: the in-process key set (embedded).",
    schema: optionalUrl,
  }),
  wsHeartbeatIntervalMs: option({
    env: "WS_HEARTBEAT_INTERVAL_MS",
    description: "Client heartbeat period announced in `connection_established` (D6).",
    schema: positiveInt.default(30_000),
  }),
  wsIdleTimeoutMs: option({
    env: "WS_IDLE_TIMEOUT_MS",
    description: "A connection without a heartbeat this long closes with `idle_timeout` (2x the period, D6).",
    schema: positiveInt.default(60_000),
  }),
  wsMaxFrameBytes: option({
    env: "WS_MAX_FRAME_BYTES",
    description: "Largest client frame; larger ones get `INVALID_MESSAGE` (protocol §4: 64 KiB).",
    schema: positiveInt.default(64 * 1024),
  }),
  wsOutboundMaxMessages: option({
    env: "WS_OUTBOUND_MAX_MESSAGES",
    description: "Outbound push buffer per connection, in messages (D9); `SLOW_CONSUMER` at 95%.",
    schema: positiveInt.default(1000),
  }),
  wsOutboundMaxBytes: option({
    env: "WS_OUTBOUND_MAX_BYTES",
    description: "Outbound push buffer per connection, in bytes (D9: 1 MiB).",
    schema: positiveInt.default(1024 * 1024),
  }),
  wsSlowConsumerGraceMs: option({
    env: "WS_SLOW_CONSUMER_GRACE_MS",
    description:
      "Time between `SLOW_CONSUMER` and `connection_closing{slow_consumer}` if the buffer stays full.",
    schema: positiveInt.default(5_000),
  }),
  wsSendPerChatPerSecond: option({
    env: "WS_SEND_PER_CHAT_PER_S",
    description: "`send_message` per chat per connection, sustained (D9: 10/s).",
    schema: positiveInt.default(10),
  }),
  wsSendPerChatBurst: option({
    env: "WS_SEND_PER_CHAT_BURST",
    description: "`send_message` per chat per connection, burst (D9: 20).",
    schema: positiveInt.default(20),
  }),
  wsSendPerConnectionPerSecond: option({
    env: "WS_SEND_PER_CONNECTION_PER_S",
    description: "`send_message` per connection over all chats (D9: 30/s).",
    schema: positiveInt.default(30),
  }),
  // Connection plane, abuse limits (gateway/limits.ts explains each number).
  wsAckPerConnectionPerSecond: option({
    env: "WS_ACK_PER_CONNECTION_PER_S",
    description:
      "`ack` frames per connection, sustained (the protocol gives no number; clients batch acks). Acks over it are dropped unanswered and count toward the `rate_limited` close.",
    schema: positiveInt.default(10),
  }),
  wsAckPerConnectionBurst: option({
    env: "WS_ACK_PER_CONNECTION_BURST",
    description: "`ack` frames per connection, burst (a client acking many chats after a reconnect).",
    schema: positiveInt.default(50),
  }),
  wsMaxConnectionsPerUser: option({
    env: "WS_MAX_CONNECTIONS_PER_USER",
    description:
      "Open WebSocket connections of one user on one gateway; more are refused with 429 `rate_limited` (spec: 5 concurrent; twice that, as a replaced connection lingers while its device reconnects).",
    schema: positiveInt.default(10),
  }),
  wsMaxConnectionsPerIp: option({
    env: "WS_MAX_CONNECTIONS_PER_IP",
    description:
      "Open WebSocket connections from one client address on one gateway, counted before the token check; more are refused with 429 `rate_limited`.",
    schema: positiveInt.default(1000),
  }),
  wsTypingExpiryMs: option({
    env: "WS_TYPING_EXPIRY_MS",
    description:
      "A typing indicator ends this long after the user's last `typing_start` without a `typing_stop`: the chat's other members then get `typing_indicator` with `is_typing: false` (protocol §11: 10 s).",
    schema: positiveInt.default(10_000),
  }),
  routingRefreshMs: option({
    env: "ROUTING_REFRESH_MS",
    description: "How often a gateway refreshes its connections' routing entries (D6: 10 s).",
    schema: positiveInt.default(10_000),
  }),
  routingTtlMs: option({
    env: "ROUTING_TTL_MS",
    description: "TTL of routing entries; must exceed ROUTING_REFRESH_MS (D6: 30 s).",
    schema: positiveInt.default(30_000),
  }),
  // --- tracing (runtime/tracing/): OpenTelemetry spans across the planes ---
  tracingExporter: option({
    env: "TRACING_EXPORTER",
    description:
      "Where spans go: `console` (each span as it ends, one JSON log line `span` with trace and span ids, beside the other logs), `otlp` (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT) or `none`. `traceparent` propagates between planes in every case.",
    schema: z.enum(["none", "console", "otlp"]).optional(),
    defaultLabel: "otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, else console",
  }),
  otelExporterOtlpEndpoint: option({
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    description: "Base URL of an OTLP/HTTP collector (spans go to `{url}/v1/traces`).",
    schema: optionalUrl,
  }),
  tracingSampleRatio: option({
    env: "TRACING_SAMPLE_RATIO",
    description:
      "Share of new traces recorded, 0..1 (spec: 1%; every trace at low traffic). A sampled parent, or a client frame's `trace_context`, is always followed.",
    schema: z.coerce.number().min(0).max(1).optional(),
    defaultLabel: "1 when ROLE=all, else 0.01",
  }),
} as const;

type Options = typeof OPTIONS;
type Parsed = { [K in keyof Options]: z.output<Options[K]["schema"]> };

export interface Config
  extends Omit<
    Parsed,
    "devMode" | "nodeId" | "tracingExporter" | "tracingSampleRatio" | "internalPort" | "snsRegion"
  > {
  readonly devMode: boolean;
  readonly snsRegion: string;
  readonly nodeId: string;
  readonly tracingExporter: "none" | "console" | "otlp";
  readonly tracingSampleRatio: number;
  readonly internalPort: number;
}

// --- dev mode decision ---
/** Options naming an interface this process listens on: dev mode is on by default only if all are loopback. */
const LISTENER_HOST_OPTIONS = ["host", "internalHost"] as const satisfies ReadonlyArray<keyof Options>;

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine reaches (`auto`, `0.0.0.0`, `::` are not). */
function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The listener interfaces of a configuration that are not loopback. */
export function publicListenerHosts(config: Readonly<Record<string, unknown>> | Config): string[] {
  const values = config as Readonly<Record<string, unknown>>;
  return LISTENER_HOST_OPTIONS.map((key) => values[key]).filter(
    (host): host is string => typeof host === "string" && !isLoopbackHost(host),
  );
}

/**
 * Dev mode hands one-time codes and the operator API to whoever reaches the process, so by default it is on
 * only for the embedded role on loopback listeners. Asked for on any other address, it needs the explicit
 * override (and `npm start` warns at every start); without it the configuration is refused.
 */
function decideDevMode(parsed: Record<string, unknown>, problems: string[]): boolean {
  const publicHosts = publicListenerHosts(parsed);
  const devMode =
    typeof parsed.devMode === "boolean" ? parsed.devMode : parsed.role === "all" && publicHosts.length === 0;
  if (devMode && publicHosts.length > 0 && parsed.allowDevModeOnPublicAddress !== true) {
    problems.push(
      `DEV_MODE: dev mode on a non-loopback address (${publicHosts.join(", ")}) lets anyone who reaches it read every phone's one-time code and use the operator API; bind HOST and INTERNAL_HOST to 127.0.0.1, or set ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS=true to accept that risk`,
    );
  }
  if (parsed.smsSender === "dev" && !devMode) {
    problems.push(
      "SMS_SENDER: the dev sender logs one-time codes and serves them over REST, so it runs only in dev mode; use sns",
    );
  }
  return devMode;
}

let defaults: Config | undefined;

/**
 * The configuration of a process started without variables or flags: every option at its declared default.
 * Code that takes an option as a parameter falls back to it from here, so each default is written once.
 */
export function defaultConfig(): Config {
  defaults ??= loadConfig({ env: {} });
  return defaults;
}

/** `DATA_DIR` -> `--data-dir`. */
const flagOf = (env: string): string => `--${env.toLowerCase().replaceAll("_", "-")}`;

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
  if (merged.TRACING_EXPORTER === "otlp" && merged.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) {
    problems.push("TRACING_EXPORTER: otlp needs OTEL_EXPORTER_OTLP_ENDPOINT");
  }
  const devMode = decideDevMode(parsed, problems);
  if (problems.length > 0) {
    throw new AppError("CONFIG_INVALID", `invalid configuration:\n  ${problems.join("\n  ")}`, {
      details: { problems },
    });
  }
  const values = parsed as Parsed;
  return {
    ...values,
    devMode,
    smsSender: values.smsSender ?? (devMode ? "dev" : undefined),
    snsRegion: values.snsRegion ?? values.awsRegion,
    tracingExporter:
      values.tracingExporter ?? (values.otelExporterOtlpEndpoint === undefined ? "console" : "otlp"),
    tracingSampleRatio: values.tracingSampleRatio ?? (values.role === "all" ? 1 : 0.01),
    internalPort: values.internalPort ?? (values.port === 0 ? 0 : DEFAULT_INTERNAL_PORT),
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
