import { randomBytes } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { IdFactory } from "../../runtime/ids.js";
import type { Inspector } from "../../runtime/inspector/inspector.js";
import type { Logger } from "../../runtime/logger.js";
import type { PlatformMetrics } from "../../runtime/metrics/platform-metrics.js";
import { ActivationRecovery } from "../../runtime/placement/activation-recovery.js";
import { ChatOwnership } from "../../runtime/placement/ownership.js";
import type { Placement } from "../../runtime/placement/placement.js";
import type { PlatformAdapters } from "../platform-adapters.js";

/**
 * The durability plane of one process: the sequencer actors (IngestService), their ownership by the ring
 * (D5; the embedded process is the only node and owns everything) and the recovery of chats other holders
 * left unpublished (invariant 5).
 */
export interface IngestRole {
  readonly service: IngestService;
  readonly ownership: ChatOwnership;
  /** Starts once the node is live and has applied the ring: hand-off first, then recovery sweeps. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export function createIngestRole(options: {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  readonly placement: Placement;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly nodeId: string;
  readonly startedAt: number;
  /** Told when a hand-off finished, to announce it with a heartbeat at once. */
  readonly onApplied: () => void;
  /** Recorders of the durability plane; absent: nothing is recorded. */
  readonly metrics?: Pick<PlatformMetrics, "durability" | "actors">;
  /** Spans of the durability plane (runtime/tracing); default: none. */
  readonly tracer?: Tracer;
}): IngestRole {
  const { config, adapters, placement, clock, logger, nodeId } = options;
  const embedded = config.role === "all";
  const holder = { nodeId, incarnation: `${options.startedAt}-${randomBytes(4).toString("hex")}` };
  let ownership: ChatOwnership | undefined;
  const service = new IngestService({
    messageStore: adapters.messageStore,
    chatStore: adapters.chatStore,
    eventLog: adapters.eventLog,
    clock,
    ids: new IdFactory(clock),
    logger,
    producerId: config.nodeId,
    activations: { store: adapters.activations, ...holder, leaseMs: config.activationLeaseMs },
    blocks: { maxMessages: config.blockMaxMessages, maxBytes: config.blockMaxBytes },
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(embedded ? {} : { ownership: { check: (chatId) => ownership?.check(chatId) } }),
  });
  const owned = new ChatOwnership(nodeId, placement.view, service.host, logger, options.onApplied);
  ownership = owned;
  const recovery = new ActivationRecovery({
    store: adapters.activations,
    view: placement.view,
    holder,
    owns: (chatId) => embedded || placement.view.current().ownerIdOf(chatId) === nodeId,
    isActive: (chatId) => service.host.instanceOf(chatId) !== undefined,
    wake: (chatId) => service.wake(chatId),
    clock,
    logger,
    intervalMs: config.activationSweepMs,
    leaseMs: config.activationLeaseMs,
  });
  return {
    service,
    ownership: owned,
    settle: async () => {
      service.followMembershipEvents(nodeId);
      if (config.ringAutoJoin || embedded) await placement.admin.join(nodeId, config.ringWeight);
      // Apply the ring as it is now (this node live, maybe just joined) and announce how far it got.
      await placement.view.refresh();
      await owned.handOff();
      recovery.start();
    },
    stop: async () => {
      await recovery.stop();
      // Sequencers finish their mailboxes and publish their outboxes before the adapters go away.
      await service.shutdown();
    },
  };
}

/** The inspector shows each sequencer's actor lifecycle and where its write cycle is (D16). */
export function inspectIngest(inspector: Inspector, service: IngestService): void {
  inspector.observeLifecycles("sequencer", service.host);
  inspector.poll("write", () => ({
    items: [...service.writeCycles()].map(([key, state]) => ({ key, state })),
    ended: {},
  }));
}
