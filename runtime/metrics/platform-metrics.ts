import type { Counter } from "prom-client";
import { KafkaOffsets } from "../adapters/kafka/kafka-offsets.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Route } from "../http/server.js";
import type { Logger } from "../logger.js";
import type { RingView } from "../placement/ring-view.js";
import { TOPICS } from "../topics.js";
import { ConsumerLag, type OffsetSource } from "./consumer-lag.js";
import { type CounterKey, Metrics } from "./metrics.js";
import { metricsRoute } from "./metrics-route.js";
import { PublishedOffsets } from "./published-offsets.js";
import {
  type ActorRecorder,
  actorRecorder,
  type DurabilityRecorder,
  durabilityRecorder,
  type GatewayRecorder,
  gatewayRecorder,
  type PlacementRecorder,
  placementRecorder,
} from "./recorders.js";

/**
 * How long a consumer-lag reading from Kafka is reused: scrapes every few seconds (from several scrapers)
 * cost the brokers two requests per period at most. The in-process log's ends are in memory: never cached.
 */
const KAFKA_LAG_CACHE_MS = 5_000;

/** The live parts of a process that metrics read on scrape (each absent when the role is not hosted). */
export interface ObservedParts {
  readonly gateway?: { connectionCount(): number };
  readonly ingest?: {
    readonly host: { activeKeys(): string[] };
    sequencerOf(key: string): { readonly position: { tail: number; publishedThrough: number } } | undefined;
  };
  readonly ring: Pick<RingView, "current" | "onChange">;
  readonly fanout?: {
    stats(): FanoutCounts;
    /** The next offset to process per partition of `messages.persisted`. */
    consumerPositions(): ReadonlyMap<number, string>;
  };
}

/** The fanout worker's own counters this module reads (a subset of its FanoutStats). */
export interface FanoutCounts {
  readonly records: Readonly<Record<"done" | "skipped" | "deadLettered" | "held", number>>;
  readonly skipped: Readonly<Record<"duplicate" | "no_members" | "nobody_online", number>>;
  readonly deadLettered: number;
  readonly pushes: {
    readonly calls: number;
    readonly failedCalls: number;
    readonly timedOutCalls: number;
    readonly delivered: number;
    readonly noConnection: number;
    readonly dropped: number;
  };
  readonly membership: { readonly hits: number; readonly misses: number };
}

/**
 * The metrics of one platform process: its Metrics, the recorders its components are built with, the
 * `/metrics` route, and the scrape-time readings of its live components.
 */
export interface PlatformMetrics {
  readonly metrics: Metrics;
  readonly gateway: GatewayRecorder;
  readonly durability: DurabilityRecorder;
  readonly actors: ActorRecorder;
  readonly placement: PlacementRecorder;
  readonly route: Route;
  /** Starts reading the live components on scrape; call once they exist. */
  observe(parts: ObservedParts): void;
  close(): Promise<void>;
}

export function createPlatformMetrics(
  config: Pick<Config, "nodeId" | "role" | "kafkaBrokers" | "fanoutGroup">,
  clock: Clock,
  logger: Logger,
): PlatformMetrics {
  const metrics = new Metrics({ instance: config.nodeId, role: config.role });
  const brokers = config.kafkaBrokers?.split(",");
  // Embedded, the log's ends are what this process published; with Kafka the brokers are asked.
  const published = brokers === undefined ? new PublishedOffsets() : undefined;
  const offsets: OffsetSource =
    published ??
    new KafkaOffsets({
      brokers: brokers ?? [],
      clientId: `${config.nodeId}-metrics`,
      groupId: config.fanoutGroup,
    });
  const stops: Array<() => void> = [];
  const log = logger.child({ component: "metrics" });
  const placement = placementRecorder(metrics);
  return {
    metrics,
    gateway: gatewayRecorder(metrics),
    durability: durabilityRecorder(metrics, published),
    actors: actorRecorder(metrics),
    placement,
    route: metricsRoute(metrics),
    observe: (parts) => {
      stops.push(parts.ring.onChange(() => placement.ringChanged()));
      const cacheMs = published === undefined ? KAFKA_LAG_CACHE_MS : 0;
      stops.push(...observeParts(metrics, parts, { offsets, cacheMs, clock, logger: log }));
    },
    close: async () => {
      for (const stop of stops.splice(0)) stop();
      await offsets.close().catch((error: unknown) => log.warn({ err: error }, "closing offsets failed"));
    },
  };
}

interface LagOptions {
  readonly offsets: OffsetSource;
  readonly cacheMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

function observeParts(metrics: Metrics, parts: ObservedParts, lagOptions: LagOptions): Array<() => void> {
  const stops: Array<() => void> = [];
  const { gateway, ingest, ring, fanout } = parts;
  if (gateway !== undefined) {
    const gauge = metrics.metric("gatewayConnectionsActive");
    stops.push(metrics.onScrape("gatewayConnectionsActive", () => gauge.set(gateway.connectionCount())));
  }
  if (ingest !== undefined) {
    const active = metrics.metric("durabilityActorsActive");
    const lag = metrics.metric("durabilityOutboxLagMessages");
    stops.push(
      metrics.onScrape("durabilityActorsActive", () => active.set(ingest.host.activeKeys().length)),
      metrics.onScrape("durabilityOutboxLagMessages", () => {
        let unpublished = 0;
        for (const key of ingest.host.activeKeys()) {
          const position = ingest.sequencerOf(key)?.position;
          if (position !== undefined) unpublished += Math.max(0, position.tail - position.publishedThrough);
        }
        lag.set(unpublished);
      }),
    );
  }
  const version = metrics.metric("placementRingVersion");
  const owners = metrics.metric("placementRingOwners");
  stops.push(
    metrics.onScrape("placementRingVersion", () => version.set(ring.current().version)),
    metrics.onScrape("placementRingOwners", () => owners.set(ring.current().owners.length)),
  );
  if (fanout !== undefined) stops.push(...observeFanout(metrics, fanout, lagOptions));
  return stops;
}

/**
 * The fanout worker keeps plain counters (its stats); they are copied into the counters on scrape, which
 * keeps the per-record path free of metric calls. They only grow while the worker lives, as counters must.
 */
function observeFanout(
  metrics: Metrics,
  fanout: NonNullable<ObservedParts["fanout"]>,
  options: LagOptions,
): Array<() => void> {
  const copy = (
    key: CounterKey,
    read: (stats: FanoutCounts) => ReadonlyArray<readonly [Record<string, string>, number]>,
  ) =>
    metrics.onScrape(key, () => {
      const counter = metrics.metric(key) as Counter<string>;
      counter.reset();
      for (const [labels, value] of read(fanout.stats())) counter.inc(labels, value);
    });
  const lag = new ConsumerLag({
    topic: TOPICS.messagesPersisted,
    source: options.offsets,
    positions: () => fanout.consumerPositions(),
    clock: options.clock,
    cacheMs: options.cacheMs,
  });
  const lagGauge = metrics.metric("fanoutConsumerLag");
  return [
    copy("fanoutEventsProcessedTotal", ({ records }) => [
      [{ status: "done" }, records.done],
      [{ status: "skipped" }, records.skipped],
      [{ status: "dead_lettered" }, records.deadLettered],
      [{ status: "held" }, records.held],
    ]),
    copy("fanoutEventsSkippedTotal", ({ skipped }) => [
      [{ reason: "duplicate" }, skipped.duplicate],
      [{ reason: "no_members" }, skipped.no_members],
      [{ reason: "nobody_online" }, skipped.nobody_online],
    ]),
    copy("fanoutDeliveryTotal", ({ pushes }) => [
      [{ status: "delivered" }, pushes.delivered],
      [{ status: "no_connection" }, pushes.noConnection],
      [{ status: "dropped" }, pushes.dropped],
    ]),
    copy("fanoutDeliverCallsTotal", ({ pushes }) => [
      [{ outcome: "ok" }, pushes.calls - pushes.failedCalls - pushes.timedOutCalls],
      [{ outcome: "failed" }, pushes.failedCalls],
      [{ outcome: "timed_out" }, pushes.timedOutCalls],
    ]),
    copy("fanoutDlqEventsTotal", ({ deadLettered }) => [[{}, deadLettered]]),
    copy("fanoutMembershipCacheHitsTotal", ({ membership }) => [[{}, membership.hits]]),
    copy("fanoutMembershipCacheMissesTotal", ({ membership }) => [[{}, membership.misses]]),
    metrics.onScrape("fanoutConsumerLag", async () => {
      try {
        const partitions = await lag.read();
        lagGauge.reset();
        for (const [partition, records] of partitions)
          lagGauge.set({ partition: String(partition) }, records);
      } catch (error) {
        // The last reading stays: a scrape must not fail because the log is unreachable for a moment.
        options.logger.warn({ err: error }, "consumer lag unreadable");
      }
    }),
  ];
}
