/**
 * Every metric of the platform, in one place: its name, type, help, labels and buckets. The prom-client
 * objects are built from this table (./metrics.ts) and the README's metrics table is generated from it
 * (./metrics-markdown.ts), so code, scrape and documentation cannot drift apart.
 *
 * Rules (spec/planes-ops-security-testing.md §3): names are `<plane>_<subsystem>_<metric>_<unit>` (the spec's
 * own catalog names are kept where it has one); every sample carries `instance` (the node id) and `role`,
 * added by the registry; `_total` is a counter, histograms have buckets, everything else is a gauge. Chat,
 * user, message and connection ids are never labels: every label below has a small, bounded set of values,
 * listed where they are known in advance (those series are exported from start-up at 0).
 */
export type MetricType = "counter" | "gauge" | "histogram";

/** How a metric gets its value: recorded where the event happens, or read from a live component on scrape. */
export type MetricSource = "inline" | "scrape";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Label names with their values when the set is fixed, or `"dynamic"` (e.g. a Kafka partition number). */
  readonly labels: Readonly<Record<string, readonly string[] | "dynamic">>;
  /** Upper bounds in seconds (or the metric's unit), histograms only. */
  readonly buckets?: readonly number[];
  readonly source: MetricSource;
}

/** Labels every sample carries, set once per process. */
export const DEFAULT_LABELS = ["instance", "role"] as const;

/**
 * The spec's persist buckets start at 10 ms, but a conditional write on this machine's dynalite takes about
 * 1 ms (ARCHITECTURE §7): the finer buckets below keep the usual case visible; the spec's bounds all remain.
 */
const FAST_STORAGE_BUCKETS = [0.001, 0.0025, 0.005] as const;

const CLOSE_REASONS = [
  "server_shutdown",
  "idle_timeout",
  "rate_limited",
  "protocol_error",
  "duplicate_connection",
  "token_expired",
  "session_revoked",
  "slow_consumer",
] as const;

const HANDSHAKE_OUTCOMES = [
  "accepted",
  "invalid_request",
  "invalid_token",
  "token_revoked",
  "rate_limited",
  "service_unavailable",
  "unsupported_version",
] as const;

const FRAME_TYPES = [
  "heartbeat",
  "send_message",
  "sync_request",
  "ack",
  "typing_start",
  "typing_stop",
  "invalid",
  "unknown",
] as const;

/** Why a typing frame or indicator went nowhere (gateway/typing-relay.ts explains each). */
const TYPING_DROP_REASONS = [
  "rate_limited",
  "not_a_member",
  "not_typing",
  "overloaded",
  "members_unavailable",
  "routing_unavailable",
  "gateway_unreachable",
] as const;

export const METRICS = {
  // Connection plane.
  gatewayConnectionsActive: {
    name: "gateway_connections_active",
    type: "gauge",
    help: "WebSocket connections this gateway holds now (any lifecycle state).",
    labels: {},
    source: "scrape",
  },
  gatewayConnectionsTotal: {
    name: "gateway_connections_total",
    type: "counter",
    help: "WebSocket upgrades by outcome: accepted, or the handshake error they were refused with.",
    labels: { status: HANDSHAKE_OUTCOMES },
    source: "inline",
  },
  gatewayConnectionsClosedTotal: {
    name: "gateway_connections_closed_total",
    type: "counter",
    help: "Connections the server closed, by connection_closing reason.",
    labels: { reason: CLOSE_REASONS },
    source: "inline",
  },
  gatewaySlowConsumerDisconnectsTotal: {
    name: "gateway_slow_consumer_disconnects_total",
    type: "counter",
    help: "Connections closed because their outbound buffer stayed full (D9 slow-consumer rule).",
    labels: {},
    source: "inline",
  },
  gatewayMessagesReceivedTotal: {
    name: "gateway_messages_received_total",
    type: "counter",
    help: "Client frames received, by frame type (`invalid`: refused by validation; `unknown`: ignored).",
    labels: { type: FRAME_TYPES },
    source: "inline",
  },
  gatewayAcksTotal: {
    name: "gateway_acks_total",
    type: "counter",
    help: "Non-zero `ack` frames forwarded to the durability plane, by whether it stored them.",
    labels: { outcome: ["stored", "failed"] },
    source: "inline",
  },
  gatewaySendLatencySeconds: {
    name: "gateway_send_latency_seconds",
    type: "histogram",
    help: "From a send_message frame's arrival to its send_message_ack (the send-latency SLI).",
    labels: {},
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    source: "inline",
  },
  gatewayTypingForwardedTotal: {
    name: "gateway_typing_forwarded_total",
    type: "counter",
    help: "Typing indicators the typing user's gateway sent to the chat's other members, by cause: `typing_start` (is_typing true), `typing_stop`, the expiry after the last start, or the typing connection closing (the last three false). Frames received are in gateway_messages_received_total.",
    labels: { cause: ["start", "stop", "expired", "closed"] },
    source: "inline",
  },
  gatewayTypingDroppedTotal: {
    name: "gateway_typing_dropped_total",
    type: "counter",
    help: "Typing frames and indicators that went nowhere, by reason: over 1/s per chat (`rate_limited`, silent), sender not a member (answered NOT_A_MEMBER/NOT_FOUND), a stop with nothing started, too many in flight, members or routing unreadable, or a recipient's gateway unreachable (per gateway).",
    labels: { reason: TYPING_DROP_REASONS },
    source: "inline",
  },
  gatewayEphemeralPushesTotal: {
    name: "gateway_ephemeral_pushes_total",
    type: "counter",
    help: "Ephemeral frames (never stored) for this gateway's connections, by type and outcome: sent, or dropped because the connection's outbound buffer was above the low threshold (they never count toward a slow-consumer close).",
    labels: { type: ["typing_indicator"], outcome: ["delivered", "dropped"] },
    source: "inline",
  },
  securityRateLimitsTotal: {
    name: "security_rate_limits_total",
    type: "counter",
    help: "Requests refused with RATE_LIMITED (acks over their limit are dropped unanswered, protocol §9), by what was asked and which limit refused it.",
    labels: {
      endpoint: ["send_message", "sync_request", "ack", "connect"],
      limit_type: ["rate", "in_flight"],
    },
    source: "inline",
  },

  // Durability plane.
  durabilityPersistTotal: {
    name: "durability_persist_total",
    type: "counter",
    help: "PersistMessage calls by outcome: stored, deduplicated, or the error code (lower case) they failed with.",
    labels: { status: ["stored", "deduplicated"] },
    source: "inline",
  },
  durabilityPersistDurationSeconds: {
    name: "durability_persist_duration_seconds",
    type: "histogram",
    help: "PersistMessage calls answered with an ack, from the call to the durable write (mailbox wait included).",
    labels: {},
    buckets: [...FAST_STORAGE_BUCKETS, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    source: "inline",
  },
  durabilityMessagesPersistedTotal: {
    name: "durability_messages_persisted_total",
    type: "counter",
    help: "Message items written to storage by this node's sequencers (each at most once, D2).",
    labels: {},
    source: "inline",
  },
  durabilityIdempotencyHitsTotal: {
    name: "durability_idempotency_hits_total",
    type: "counter",
    help: "Sends answered with the stored message of an earlier send of the same client_message_id.",
    labels: {},
    source: "inline",
  },
  durabilityTransactionConflictsTotal: {
    name: "durability_transaction_conflicts_total",
    type: "counter",
    help: "Fencing events: a message write refused because another owner already holds that sequence (D2).",
    labels: {},
    source: "inline",
  },
  durabilitySyncTotal: {
    name: "durability_sync_total",
    type: "counter",
    help: "SyncMessages calls by outcome: ok, or the error code (lower case) they failed with.",
    labels: { status: ["ok"] },
    source: "inline",
  },
  durabilityOutboxLagMessages: {
    name: "durability_outbox_lag_messages",
    type: "gauge",
    help: "Persisted messages of this node's active sequencers not yet published to the event log (D4).",
    labels: {},
    source: "scrape",
  },
  durabilityKafkaProduceDurationSeconds: {
    name: "durability_kafka_produce_duration_seconds",
    type: "histogram",
    help: "Publications of MessagePersisted batches to the event log, successful or not.",
    labels: {},
    buckets: [...FAST_STORAGE_BUCKETS, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
    source: "inline",
  },
  durabilityActorsActive: {
    name: "durability_actors_active",
    type: "gauge",
    help: "Chat sequencer actors with a live instance on this node.",
    labels: {},
    source: "scrape",
  },
  durabilityActorActivationsTotal: {
    name: "durability_actor_activations_total",
    type: "counter",
    help: "Sequencer activations (state loaded from storage), by outcome.",
    labels: { outcome: ["activated", "failed"] },
    source: "inline",
  },
  durabilityActorPassivationsTotal: {
    name: "durability_actor_passivations_total",
    type: "counter",
    help: "Sequencer instances discarded, by why: drained after idle, at shutdown, or because a ring change moved the chat to another node (`ownership_lost`: the chats this node handed off), or crashed.",
    labels: { reason: ["idle", "ownership_lost", "shutdown", "crashed"] },
    source: "inline",
  },

  // Placement (D5).
  placementRingVersion: {
    name: "placement_ring_version",
    type: "gauge",
    help: "Version of the ring configuration in this process's view.",
    labels: {},
    source: "scrape",
  },
  placementRingOwners: {
    name: "placement_ring_owners",
    type: "gauge",
    help: "Ring members that are active and live, i.e. own chats, in this process's view.",
    labels: {},
    source: "scrape",
  },
  placementRingChangesTotal: {
    name: "placement_ring_changes_total",
    type: "counter",
    help: "Changes of this process's ring view (configuration, live owners or their addresses).",
    labels: {},
    source: "inline",
  },

  // Fanout plane: the worker counts in plain fields; these read them on scrape.
  fanoutEventsProcessedTotal: {
    name: "fanout_events_processed_total",
    type: "counter",
    help: "messages.persisted records by final delivery state (`held`: batch handed back, delivered again).",
    labels: { status: ["done", "skipped", "dead_lettered", "held"] },
    source: "scrape",
  },
  fanoutEventsSkippedTotal: {
    name: "fanout_events_skipped_total",
    type: "counter",
    help: "Records that needed no push, by reason: already pushed, chat without members, nobody online.",
    labels: { reason: ["duplicate", "no_members", "nobody_online"] },
    source: "scrape",
  },
  fanoutDeliveryTotal: {
    name: "fanout_delivery_total",
    type: "counter",
    help: "Per-recipient deliveries as gateways answered: pushed, recipient not connected there, or dropped (slow consumer).",
    labels: { status: ["delivered", "no_connection", "dropped"] },
    source: "scrape",
  },
  fanoutDeliverCallsTotal: {
    name: "fanout_deliver_calls_total",
    type: "counter",
    help: "Batched Deliver calls to gateways, by outcome (never retried: clients heal by sync).",
    labels: { outcome: ["ok", "failed", "timed_out"] },
    source: "scrape",
  },
  fanoutDlqEventsTotal: {
    name: "fanout_dlq_events_total",
    type: "counter",
    help: "Poison records written to dead_letters.",
    labels: {},
    source: "scrape",
  },
  fanoutMembershipCacheHitsTotal: {
    name: "fanout_membership_cache_hits_total",
    type: "counter",
    help: "Member lists served from the fanout worker's cache.",
    labels: {},
    source: "scrape",
  },
  fanoutMembershipCacheMissesTotal: {
    name: "fanout_membership_cache_misses_total",
    type: "counter",
    help: "Member lists read through to storage.",
    labels: {},
    source: "scrape",
  },
  fanoutConsumerLag: {
    name: "fanout_consumer_lag",
    type: "gauge",
    help: "messages.persisted records per partition not yet processed by the fanout group: end offset minus the next offset to process (cached a few seconds).",
    labels: { partition: "dynamic" },
    source: "scrape",
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;
