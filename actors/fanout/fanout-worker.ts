import type { Tracer } from "@opentelemetry/api";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/logger.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog, RecordBatch, Subscription } from "../../runtime/ports/event-log.js";
import type { ConnectionRegistry, NodeRegistry } from "../../runtime/ports/routing.js";
import { failSpan } from "../../runtime/tracing/span-outcome.js";
import { NOOP_TRACER } from "../../runtime/tracing/tracing.js";
import type { DeliveryMachineState, SkipReason } from "./delivery.machine.js";
import { type BatchTools, DeliveryBatch } from "./delivery-batch.js";
import { DeliveryCounters } from "./delivery-lifecycle.js";
import { FANOUT_DEFAULTS, type FanoutOptions } from "./fanout-options.js";
import { GatewayPusher, type PushCounters } from "./gateway-pusher.js";
import { type GatewayFor, LiveGateways } from "./live-gateways.js";
import { MembershipCache, type MembershipCacheStats } from "./membership-cache.js";
import { RecentSequences } from "./recent-sequences.js";

export interface FanoutWorkerDeps {
  readonly eventLog: EventLog;
  readonly chatStore: Pick<ChatStore, "listMembers">;
  readonly connections: Pick<ConnectionRegistry, "gatewaysOfUsers">;
  readonly nodes: Pick<NodeRegistry, "liveNodes">;
  readonly gatewayFor: GatewayFor;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This worker's name: `consumer_id` of its dead letters, and its own membership-event group. */
  readonly nodeId: string;
  readonly options?: Partial<FanoutOptions>;
  /** Spans `fanout.consume` (per record) and `fanout.deliver_batch` (per Deliver call); default: none. */
  readonly tracer?: Tracer;
}

export interface FanoutStats {
  /** Records of `messages.persisted` that reached each final state of the delivery machine. */
  readonly records: Readonly<Record<DeliveryMachineState, number>>;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** Poison records written to `dead_letters` (any topic). */
  readonly deadLettered: number;
  /** `memberships.changed` / `chats.created` events applied to the member cache. */
  readonly membershipEvents: number;
  /** Batches handed back uncommitted (members unreadable, dead-letter publish failed, worker stopping). */
  readonly batchesHeld: number;
  readonly routing: {
    readonly routed: number;
    readonly broadcast: number;
    /** Gateway ids in routing entries that are not live gateway nodes (skipped; their clients heal by sync). */
    readonly unknownGateways: number;
    /** Reads of the live gateways that failed (the last list read was used). */
    readonly gatewayListFailures: number;
  };
  readonly pushes: PushCounters;
  readonly membership: MembershipCacheStats;
}

export interface InFlightRecord {
  readonly chatId: string;
  readonly sequence: number;
  /** Dotted state of the delivery machine, e.g. `pushing` or `skipped.nobody_online`. */
  readonly state: string;
}

export interface FanoutWorker {
  stats(): FanoutStats;
  /** The records of the batches being handled now and where each is in the delivery machine (inspector). */
  inFlight(): InFlightRecord[];
  /**
   * The next offset to process per partition of `messages.persisted`, for the batches this worker finished
   * (consumer lag, runtime/metrics/consumer-lag.ts).
   */
  consumerPositions(): ReadonlyMap<number, string>;
  /**
   * Stops consuming. By default the running batch finishes (every Deliver call is bounded by its timeout)
   * and is committed. `abandon: true` is a crash: in-flight pushes are given up and nothing of the running
   * batch is committed, so another worker of the group (or this one restarted) delivers it again.
   */
  stop(options?: { abandon?: boolean }): Promise<void>;
}

/**
 * Starts one fanout worker (D7, D10): consumes `messages.persisted` in the shared `fanout-workers` group
 * (per-partition order, a batch committed only after every online recipient of each record was attempted),
 * and `memberships.changed` + `chats.created` in a group of its own (every worker must see every membership
 * change, whatever `messages.persisted` partitions it holds) to keep its member cache honest.
 */
export async function startFanoutWorker(deps: FanoutWorkerDeps): Promise<FanoutWorker> {
  const options: FanoutOptions = {
    ...FANOUT_DEFAULTS,
    ...deps.options,
    topics: { ...FANOUT_DEFAULTS.topics, ...deps.options?.topics },
    pacing: { ...FANOUT_DEFAULTS.pacing, ...deps.options?.pacing },
  };
  const worker = new Worker(deps, options);
  await worker.start();
  return worker;
}

class Worker implements FanoutWorker {
  private readonly logger: Logger;
  private readonly cache: MembershipCache;
  private readonly gateways: LiveGateways;
  private readonly pusher: GatewayPusher;
  private readonly counters = new DeliveryCounters();
  private readonly recent: RecentSequences;
  private readonly subscriptions: Subscription[] = [];
  private readonly running = new Set<DeliveryBatch["messages"]>();
  private stopping: Promise<void> | undefined;
  private deadLettered = 0;
  private readonly counts: BatchTools["counts"] & { batchesHeld: number } = {
    membershipEvents: 0,
    batchesHeld: 0,
    routing: { routed: 0, broadcast: 0, unknownGateways: 0 },
  };
  private readonly finished = new Map<number, string>();
  private readonly tracer: Tracer;
  private readonly tools: BatchTools;

  constructor(
    private readonly deps: FanoutWorkerDeps,
    private readonly options: FanoutOptions,
  ) {
    this.logger = deps.logger.child({ component: "fanout", node_id: deps.nodeId });
    this.tracer = deps.tracer ?? NOOP_TRACER;
    this.cache = new MembershipCache({
      chatStore: deps.chatStore,
      clock: deps.clock,
      ttlMs: options.memberCacheTtlMs,
      maxChats: options.memberCacheMaxChats,
    });
    this.gateways = new LiveGateways({
      nodes: deps.nodes,
      gatewayFor: deps.gatewayFor,
      clock: deps.clock,
      logger: this.logger,
      refreshMs: options.gatewayRefreshMs,
    });
    this.pusher = new GatewayPusher({
      clock: deps.clock,
      logger: this.logger,
      deliverTimeoutMs: options.deliverTimeoutMs,
      maxDeliveriesPerCall: options.maxDeliveriesPerCall,
      tracer: this.tracer,
    });
    this.recent = new RecentSequences(options.memberCacheMaxChats);
    this.tools = {
      cache: this.cache,
      gateways: this.gateways,
      pusher: this.pusher,
      recent: this.recent,
      connections: deps.connections,
      pacing: options.pacing,
      clock: deps.clock,
      logger: this.logger,
      tracer: this.tracer,
      nodeId: deps.nodeId,
      counts: this.counts,
    };
  }

  async start(): Promise<void> {
    const { topics } = this.options;
    try {
      // Membership first: a message consumed from now on sees every membership event published from now on.
      const membersGroup = `${this.options.groupId}.members.${this.deps.nodeId}`;
      this.subscriptions.push(
        await this.deps.eventLog.subscribe({
          groupId: membersGroup,
          topics: [topics.membershipsChanged, topics.chatsCreated],
          fromBeginning: false,
          handle: (batch) => this.handle(batch, membersGroup),
          onHandlerError: (error, batch) => this.onHandlerError(error, batch),
        }),
      );
      this.subscriptions.push(
        await this.deps.eventLog.subscribe({
          groupId: this.options.groupId,
          topics: [topics.messagesPersisted],
          // A new group starts at the oldest record (spec §4: auto.offset.reset=earliest).
          fromBeginning: true,
          handle: (batch) => this.handle(batch, this.options.groupId),
          onHandlerError: (error, batch) => this.onHandlerError(error, batch),
        }),
      );
    } catch (error) {
      await Promise.allSettled(this.subscriptions.map((subscription) => subscription.stop()));
      throw error;
    }
    this.logger.info({ group_id: this.options.groupId, topics }, "fanout worker started");
  }

  stats(): FanoutStats {
    return {
      records: { ...this.counters.ended },
      skipped: { ...this.counters.skipped },
      deadLettered: this.deadLettered,
      membershipEvents: this.counts.membershipEvents,
      batchesHeld: this.counts.batchesHeld,
      routing: { ...this.counts.routing, gatewayListFailures: this.gateways.failedRefreshes },
      pushes: this.pusher.counters(),
      membership: this.cache.stats(),
    };
  }

  inFlight(): InFlightRecord[] {
    return [...this.running].flatMap((messages) =>
      messages.map(({ record, path }) => ({ chatId: record.chatId, sequence: record.sequence, state: path })),
    );
  }

  consumerPositions(): ReadonlyMap<number, string> {
    return this.finished;
  }

  stop(options: { abandon?: boolean } = {}): Promise<void> {
    if (options.abandon === true) this.pusher.abandon();
    this.stopping ??= (async () => {
      await Promise.allSettled(this.subscriptions.map((subscription) => subscription.stop()));
      this.logger.info(this.stats(), "fanout worker stopped");
    })();
    return this.stopping;
  }

  /**
   * One batch of one partition, its records driven by the delivery machine (./delivery-batch.ts). The batch
   * resolves (is committed) only after pushes were attempted and poison records were written to
   * `dead_letters`; a throw hands it back and the event log delivers it again.
   */
  private async handle(batch: RecordBatch, consumerGroup: string): Promise<void> {
    const run = new DeliveryBatch(this.tools, consumerGroup);
    run.consume(batch);
    this.running.add(run.messages);
    try {
      await run.readMembers();
      await run.findRoutes();
      await run.sendWaves();
    } catch (error) {
      for (const { record } of run.messages) failSpan(record.span, error);
      if (run.isHeld) {
        for (const lifecycle of run.messages) if (lifecycle.state === "held") this.counters.record(lifecycle);
        this.counts.batchesHeld++;
      }
      throw error;
    } finally {
      this.running.delete(run.messages);
      for (const { record, path } of run.messages) {
        record.span.setAttribute("delivery_state", path);
        record.span.end();
      }
    }
    if (this.pusher.isAbandoned) {
      this.counts.batchesHeld++;
      throw new AppError("SERVICE_UNAVAILABLE", "fanout worker abandoned its batch");
    }
    // Remembered before the dead letters are written: if that fails, the batch comes again without re-pushing.
    for (const { record } of run.messages)
      if (record.remembered) this.recent.add(record.chatId, record.sequence);
    if (run.letters.length > 0) {
      try {
        await this.deps.eventLog.publish(this.options.topics.deadLetters, run.letters);
      } catch (error) {
        // Never past a record that is neither handled nor dead-lettered: the batch comes again.
        this.counts.batchesHeld++;
        throw error;
      }
      this.deadLettered += run.letters.length;
      for (const lifecycle of run.poisoned) this.counters.record(lifecycle);
    }
    for (const lifecycle of run.messages) this.counters.record(lifecycle);
    const last = batch.records.at(-1);
    if (last !== undefined && batch.topic === this.options.topics.messagesPersisted) {
      this.finished.set(batch.partition, (BigInt(last.offset) + 1n).toString());
    }
  }

  private onHandlerError(error: unknown, batch: RecordBatch): void {
    this.logger.warn(
      { err: error, topic: batch.topic, partition: batch.partition, records: batch.records.length },
      "fanout batch not committed; it will be delivered again",
    );
  }
}
