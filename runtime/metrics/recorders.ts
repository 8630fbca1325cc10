import type { PublishedRecord } from "../ports/event-log.js";
import { METRICS } from "./catalog.js";
import type { Metrics } from "./metrics.js";
import type { PublishedOffsets } from "./published-offsets.js";

/**
 * What each component records, in its own words. Components take one of these (optional: the no-op below
 * when absent, so code built without metrics, e.g. in unit tests, needs nothing); the platform passes the
 * implementations over its Metrics. Label children are bound once here, so recording on a hot path is a
 * property read and an addition: no label objects, no hashing.
 */
type Values<L> = L extends readonly (infer V)[] ? V : never;
export type HandshakeOutcome = Values<typeof METRICS.gatewayConnectionsTotal.labels.status>;
export type FrameKind = Values<typeof METRICS.gatewayMessagesReceivedTotal.labels.type>;
export type RateLimitedEndpoint = Values<typeof METRICS.securityRateLimitsTotal.labels.endpoint>;
export type ServerCloseReason = Values<typeof METRICS.gatewayConnectionsClosedTotal.labels.reason>;
export type TypingCause = Values<typeof METRICS.gatewayTypingForwardedTotal.labels.cause>;
export type TypingDropReason = Values<typeof METRICS.gatewayTypingDroppedTotal.labels.reason>;
export type EphemeralType = Values<typeof METRICS.gatewayEphemeralPushesTotal.labels.type>;
export type PassivationReason = Values<typeof METRICS.durabilityActorPassivationsTotal.labels.reason>;

export interface GatewayRecorder {
  handshake(outcome: HandshakeOutcome): void;
  frameReceived(kind: FrameKind): void;
  rateLimited(endpoint: RateLimitedEndpoint, limit: "rate" | "in_flight"): void;
  /** A send answered with its ack, `seconds` after the frame arrived. */
  sendAcknowledged(seconds: number): void;
  ackForwarded(outcome: "stored" | "failed"): void;
  serverClosed(reason: ServerCloseReason): void;
  /** A typing indicator left the typing user's gateway for the chat's other members. */
  typingForwarded(cause: TypingCause): void;
  typingDropped(reason: TypingDropReason): void;
  /** Ephemeral frames for this gateway's connections: `count` sent or dropped (backed-up buffer). */
  ephemeralPushed(type: EphemeralType, outcome: "delivered" | "dropped", count: number): void;
}

export interface DurabilityRecorder {
  /** A persist call answered: `seconds` from the call to its ack; `deduplicated` is an idempotency hit. */
  persisted(deduplicated: boolean, seconds: number): void;
  /** A persist call failed with an error code. */
  persistFailed(code: string): void;
  synced(code?: string): void;
  messageWritten(): void;
  /** A message write found its sequence taken by another owner (D2 fencing). */
  sequenceConflict(): void;
  /** A publication of MessagePersisted events ended: the offsets the log gave them, or undefined (failed). */
  produced(seconds: number, published: readonly PublishedRecord[] | undefined): void;
}

export interface ActorRecorder {
  activated(ok: boolean): void;
  passivated(reason: PassivationReason): void;
}

export interface PlacementRecorder {
  ringChanged(): void;
}

const noop = () => {};

export const NO_GATEWAY_METRICS: GatewayRecorder = {
  handshake: noop,
  frameReceived: noop,
  rateLimited: noop,
  sendAcknowledged: noop,
  ackForwarded: noop,
  serverClosed: noop,
  typingForwarded: noop,
  typingDropped: noop,
  ephemeralPushed: noop,
};
export const NO_DURABILITY_METRICS: DurabilityRecorder = {
  persisted: noop,
  persistFailed: noop,
  synced: noop,
  messageWritten: noop,
  sequenceConflict: noop,
  produced: noop,
};
export const NO_ACTOR_METRICS: ActorRecorder = { activated: noop, passivated: noop };

/** Binds one label child per value, up front. */
function bound<V extends string, C>(values: readonly V[], child: (value: V) => C): Record<V, C> {
  return Object.fromEntries(values.map((value) => [value, child(value)])) as Record<V, C>;
}

export function gatewayRecorder(metrics: Metrics): GatewayRecorder {
  const handshakes = metrics.metric("gatewayConnectionsTotal");
  const byOutcome = bound(METRICS.gatewayConnectionsTotal.labels.status, (status) =>
    handshakes.labels({ status }),
  );
  const frames = metrics.metric("gatewayMessagesReceivedTotal");
  const byFrame = bound(METRICS.gatewayMessagesReceivedTotal.labels.type, (type) => frames.labels({ type }));
  const limits = metrics.metric("securityRateLimitsTotal");
  const byLimit = bound(METRICS.securityRateLimitsTotal.labels.endpoint, (endpoint) => ({
    rate: limits.labels({ endpoint, limit_type: "rate" }),
    in_flight: limits.labels({ endpoint, limit_type: "in_flight" }),
  }));
  const acks = metrics.metric("gatewayAcksTotal");
  const byAck = bound(METRICS.gatewayAcksTotal.labels.outcome, (outcome) => acks.labels({ outcome }));
  const closed = metrics.metric("gatewayConnectionsClosedTotal");
  const byReason = bound(METRICS.gatewayConnectionsClosedTotal.labels.reason, (reason) =>
    closed.labels({ reason }),
  );
  const slow = metrics.metric("gatewaySlowConsumerDisconnectsTotal");
  const latency = metrics.metric("gatewaySendLatencySeconds");
  const forwarded = metrics.metric("gatewayTypingForwardedTotal");
  const byCause = bound(METRICS.gatewayTypingForwardedTotal.labels.cause, (cause) =>
    forwarded.labels({ cause }),
  );
  const typingDrops = metrics.metric("gatewayTypingDroppedTotal");
  const byDrop = bound(METRICS.gatewayTypingDroppedTotal.labels.reason, (reason) =>
    typingDrops.labels({ reason }),
  );
  const ephemeral = metrics.metric("gatewayEphemeralPushesTotal");
  const byEphemeral = bound(METRICS.gatewayEphemeralPushesTotal.labels.type, (type) => ({
    delivered: ephemeral.labels({ type, outcome: "delivered" }),
    dropped: ephemeral.labels({ type, outcome: "dropped" }),
  }));
  return {
    handshake: (outcome) => byOutcome[outcome].inc(),
    frameReceived: (kind) => byFrame[kind].inc(),
    rateLimited: (endpoint, limit) => byLimit[endpoint][limit].inc(),
    sendAcknowledged: (seconds) => latency.observe(seconds),
    ackForwarded: (outcome) => byAck[outcome].inc(),
    serverClosed: (reason) => {
      byReason[reason].inc();
      if (reason === "slow_consumer") slow.inc();
    },
    typingForwarded: (cause) => byCause[cause].inc(),
    typingDropped: (reason) => byDrop[reason].inc(),
    ephemeralPushed: (type, outcome, count) => {
      if (count > 0) byEphemeral[type][outcome].inc(count);
    },
  };
}

/** `offsets`: where the in-process log's ends are learnt (embedded; Kafka is asked directly instead). */
export function durabilityRecorder(metrics: Metrics, offsets?: PublishedOffsets): DurabilityRecorder {
  const persists = metrics.metric("durabilityPersistTotal");
  const stored = persists.labels({ status: "stored" });
  const deduplicated = persists.labels({ status: "deduplicated" });
  const duration = metrics.metric("durabilityPersistDurationSeconds");
  const syncs = metrics.metric("durabilitySyncTotal");
  const syncOk = syncs.labels({ status: "ok" });
  const written = metrics.metric("durabilityMessagesPersistedTotal");
  const hits = metrics.metric("durabilityIdempotencyHitsTotal");
  const conflicts = metrics.metric("durabilityTransactionConflictsTotal");
  const produce = metrics.metric("durabilityKafkaProduceDurationSeconds");
  return {
    persisted: (wasDuplicate, seconds) => {
      if (wasDuplicate) {
        deduplicated.inc();
        hits.inc();
      } else stored.inc();
      duration.observe(seconds);
    },
    // Error codes are a fixed taxonomy (runtime/errors.ts), so the label stays bounded.
    persistFailed: (code) => persists.labels({ status: code.toLowerCase() }).inc(),
    synced: (code) =>
      code === undefined ? syncOk.inc() : syncs.labels({ status: code.toLowerCase() }).inc(),
    messageWritten: () => written.inc(),
    sequenceConflict: () => conflicts.inc(),
    produced: (seconds, published) => {
      produce.observe(seconds);
      if (published !== undefined) offsets?.record(published);
    },
  };
}

export function actorRecorder(metrics: Metrics): ActorRecorder {
  const activations = metrics.metric("durabilityActorActivationsTotal");
  const activated = activations.labels({ outcome: "activated" });
  const failed = activations.labels({ outcome: "failed" });
  const passivations = metrics.metric("durabilityActorPassivationsTotal");
  const byReason = bound(METRICS.durabilityActorPassivationsTotal.labels.reason, (reason) =>
    passivations.labels({ reason }),
  );
  return {
    activated: (ok) => (ok ? activated : failed).inc(),
    passivated: (reason) => byReason[reason].inc(),
  };
}

export function placementRecorder(metrics: Metrics): PlacementRecorder {
  const changes = metrics.metric("placementRingChangesTotal");
  return { ringChanged: () => changes.inc() };
}
