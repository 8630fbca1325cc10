import { type Config, defaultConfig } from "../runtime/config.js";
import { MAX_CONTENT_BYTES, PROTOCOL_VERSION } from "../runtime/protocol-limits.js";

/**
 * The connection plane's limits and timers (D6, D9, spec/protocol.md, spec/delivery-presence-kafka.md §2),
 * and what each guards. The configurable ones take their defaults from the option table of runtime/config.ts;
 * tests shrink them.
 */
export interface GatewayLimits {
  /** Frames above this many bytes are refused with INVALID_MESSAGE (protocol §4: 64 KiB). */
  readonly maxFrameBytes: number;
  /** `content` of a send, in UTF-8 bytes (`Buffer.byteLength`), D9. */
  readonly maxContentBytes: number;
  /** Heartbeat period announced in `connection_established` (D6). */
  readonly heartbeatIntervalMs: number;
  /** No heartbeat for this long closes with `idle_timeout` (2x the interval, D6). */
  readonly idleTimeoutMs: number;
  /** Outbound buffer per connection: messages (D9). */
  readonly outboundMaxMessages: number;
  /** Outbound buffer per connection: bytes (D9). */
  readonly outboundMaxBytes: number;
  /** Fill ratio at which `SLOW_CONSUMER` is sent and the grace timer starts (95%). */
  readonly slowConsumerRatio: number;
  /** Fill ratio below which a slow consumer counts as recovered during its grace (80%). */
  readonly slowConsumerResumeRatio: number;
  /** Grace after `SLOW_CONSUMER` before `connection_closing{slow_consumer}` (5 s). */
  readonly slowConsumerGraceMs: number;
  /** `send_message` per chat per connection: sustained rate and burst (D9: 10/s, burst 20). */
  readonly sendPerChatPerSecond: number;
  readonly sendPerChatBurst: number;
  /** `send_message` per connection, all chats together (D9: 30/s). */
  readonly sendPerConnectionPerSecond: number;
  /** New connections per user per minute (protocol §3 "connect rate limit"); more answer 429 `rate_limited`. */
  readonly connectsPerUserPerMinute: number;
  /** `sync_request` per connection (protocol §11: 5/s). */
  readonly syncPerConnectionPerSecond: number;
  /**
   * `ack` per connection: sustained rate and burst. The protocol gives no number, only that clients batch
   * (§9: every 5 s or 10 messages per chat) and ack each chat's top after a sync (5 syncs/s). 10/s with a
   * burst of 50 covers a client acking 50 chats at once after reconnecting; over it, acks are dropped
   * unanswered (one-way frames; the client re-acks later) and count toward the `rate_limited` close.
   */
  readonly ackPerConnectionPerSecond: number;
  readonly ackPerConnectionBurst: number;
  /**
   * Open connections of one user on this gateway (spec/planes-ops-security-testing.md: 5 concurrent); more are
   * refused with 429 `rate_limited`. Twice the session cap (one connection per device), because a replaced
   * connection lingers through its close handshake while its device reconnects.
   */
  readonly maxConnectionsPerUser: number;
  /**
   * Open connections from one client address on this gateway, counted before the token is checked; more are
   * refused with 429 `rate_limited`. Generous: carrier NATs put many users behind one address.
   */
  readonly maxConnectionsPerIp: number;
  /**
   * How long the handshake trusts that a token's session is live. Revocations reach every gateway at once;
   * this bounds only a gateway that missed one (the spec's gateways re-check every 60 s).
   */
  readonly sessionCheckTtlMs: number;
  /** Refused (rate-limited) frames within `abuseWindowMs` that close the connection with `rate_limited`. */
  readonly rateLimitedCloseThreshold: number;
  /** Invalid frames within `abuseWindowMs` that close the connection with `protocol_error` (protocol §5: 10). */
  readonly invalidFrameCloseThreshold: number;
  readonly abuseWindowMs: number;
  /** Requests (send/sync) of one connection waiting on the durability plane at once (ADR-009: 100). */
  readonly maxInFlightRequests: number;
  /** Gateway refreshes its routing entries this often (D6: 10 s) with this TTL (D6: 30 s). */
  readonly routingRefreshMs: number;
  readonly routingTtlMs: number;
  /** `reconnect_delay_ms` announced in `connection_closing`. */
  readonly reconnectDelayMs: number;
  /** After `connection_closing`, the socket is terminated if the close handshake takes longer than this. */
  readonly closeTimeoutMs: number;
  /**
   * A typing indicator ends this long after its last `typing_start` without a `typing_stop`: the recipients
   * then get `is_typing: false` (protocol §11: 10 s).
   */
  readonly typingExpiryMs: number;
  /** `typing_start` per chat per connection (protocol §11: 1/s); more are dropped silently. */
  readonly typingStartPerChatPerSecond: number;
  /**
   * `typing_start` per connection over all chats: sustained rate and burst. The protocol only limits each
   * chat; this bounds the member reads a client cycling through chat ids can cause. Over it, dropped silently.
   */
  readonly typingStartPerConnectionPerSecond: number;
  readonly typingStartPerConnectionBurst: number;
  /**
   * Fill ratio of a connection's outbound buffer above which ephemeral frames (typing indicators) are not
   * queued for it: they go first under backpressure, long before the slow-consumer warning level.
   */
  readonly ephemeralDropRatio: number;
  /** Circuit breaker on the durability plane (ADR-009): failures within the window that open it... */
  readonly breakerFailureThreshold: number;
  readonly breakerWindowMs: number;
  /** ...and how long it stays open before one probe is let through. */
  readonly breakerOpenMs: number;
}

/**
 * The limits the configuration sets (the "Connection plane" options of runtime/config.ts, whose table holds
 * their defaults); every other limit is fixed below.
 */
type GatewayLimitsConfig = Pick<
  Config,
  | "wsHeartbeatIntervalMs"
  | "wsIdleTimeoutMs"
  | "wsMaxFrameBytes"
  | "wsOutboundMaxMessages"
  | "wsOutboundMaxBytes"
  | "wsSlowConsumerGraceMs"
  | "wsSendPerChatPerSecond"
  | "wsSendPerChatBurst"
  | "wsSendPerConnectionPerSecond"
  | "wsAckPerConnectionPerSecond"
  | "wsAckPerConnectionBurst"
  | "wsMaxConnectionsPerUser"
  | "wsMaxConnectionsPerIp"
  | "routingRefreshMs"
  | "routingTtlMs"
  | "wsTypingExpiryMs"
>;

/** The gateway's limits from the validated configuration. */
export function gatewayLimitsFromConfig(config: GatewayLimitsConfig): GatewayLimits {
  return {
    maxContentBytes: MAX_CONTENT_BYTES,
    slowConsumerRatio: 0.95,
    slowConsumerResumeRatio: 0.8,
    syncPerConnectionPerSecond: 5,
    sessionCheckTtlMs: 30_000,
    connectsPerUserPerMinute: 30,
    rateLimitedCloseThreshold: 100,
    invalidFrameCloseThreshold: 10,
    abuseWindowMs: 60_000,
    maxInFlightRequests: 100,
    reconnectDelayMs: 5_000,
    closeTimeoutMs: 5_000,
    breakerFailureThreshold: 5,
    breakerWindowMs: 30_000,
    breakerOpenMs: 30_000,
    typingStartPerChatPerSecond: 1,
    typingStartPerConnectionPerSecond: 10,
    typingStartPerConnectionBurst: 20,
    ephemeralDropRatio: 0.25,
    typingExpiryMs: config.wsTypingExpiryMs,
    heartbeatIntervalMs: config.wsHeartbeatIntervalMs,
    idleTimeoutMs: config.wsIdleTimeoutMs,
    maxFrameBytes: config.wsMaxFrameBytes,
    outboundMaxMessages: config.wsOutboundMaxMessages,
    outboundMaxBytes: config.wsOutboundMaxBytes,
    slowConsumerGraceMs: config.wsSlowConsumerGraceMs,
    sendPerChatPerSecond: config.wsSendPerChatPerSecond,
    sendPerChatBurst: config.wsSendPerChatBurst,
    sendPerConnectionPerSecond: config.wsSendPerConnectionPerSecond,
    ackPerConnectionPerSecond: config.wsAckPerConnectionPerSecond,
    ackPerConnectionBurst: config.wsAckPerConnectionBurst,
    maxConnectionsPerUser: config.wsMaxConnectionsPerUser,
    maxConnectionsPerIp: config.wsMaxConnectionsPerIp,
    routingRefreshMs: config.routingRefreshMs,
    routingTtlMs: config.routingTtlMs,
  };
}

/** The documented defaults: the fixed limits and the configuration's defaults. */
export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = gatewayLimitsFromConfig(defaultConfig());

export const SUPPORTED_VERSIONS = [PROTOCOL_VERSION] as const;
