import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { Delivery } from "../../runtime/gateway-api.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  RecordBatch,
  Subscription,
} from "../../runtime/ports/event-log.js";
import type { ConnectionRegistry, NodeRegistry } from "../../runtime/ports/routing.js";
import { contextOf, TRACEPARENT, traceparentOfSpan } from "../../runtime/tracing/propagation.js";
import { failSpan } from "../../runtime/tracing/span-outcome.js";
import { NOOP_TRACER } from "../../runtime/tracing/tracing.js";
import { deadLetterRecord } from "./dead-letters.js";
import type { DeliveryMachineState, SkipReason } from "./delivery.machine.js";
import { DeliveryCounters, DeliveryLifecycle } from "./delivery-lifecycle.js";
import { FANOUT_DEFAULTS, type FanoutOptions } from "./fanout-options.js";
import { parseRecord } from "./fanout-records.js";
import { LiveGateways, type GatewayFor, type ResolvedGateway } from "./live-gateways.js";
import { GatewayPusher, type PushCounters } from "./gateway-pusher.js";
import { MembershipCache, type MembershipCacheStats } from "./membership-cache.js";
import { pacedSlices } from "./pacing.js";
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

interface MessageItem {
  readonly message: Delivery["message"];
  readonly excludeConnectionId: Delivery["excludeConnectionId"];
  readonly lifecycle: DeliveryLifecycle;
  recipients: readonly UserId[];
  /** `fanout.consume`, continuing the record's `traceparent` header; ends with the batch. */
  readonly span: Span;
  /** The span's context, handed to gateways with each delivery of the message. */
  readonly traceparent: string | undefined;
}

type Target = readonly [ResolvedGateway, Delivery];

class Worker implements FanoutWorker {
  private readonly logger: Logger;
  private readonly cache: MembershipCache;
  private readonly gateways: LiveGateways;
  private readonly pusher: GatewayPusher;
  private readonly counters = new DeliveryCounters();
  private readonly recent: RecentSequences;
  private readonly subscriptions: Subscription[] = [];
  private readonly running = new Set<readonly MessageItem[]>();
  private stopping: Promise<void> | undefined;
  private deadLettered = 0;
  private membershipEvents = 0;
  private batchesHeld = 0;
  private readonly routing = { routed: 0, broadcast: 0, unknownGateways: 0 };
  private readonly finished = new Map<number, string>();
  private readonly tracer: Tracer;

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
      membershipEvents: this.membershipEvents,
      batchesHeld: this.batchesHeld,
      routing: { ...this.routing, gatewayListFailures: this.gateways.failedRefreshes },
      pushes: this.pusher.counters(),
      membership: this.cache.stats(),
    };
  }

  inFlight(): InFlightRecord[] {
    return [...this.running].flatMap((items) =>
      items.map(({ lifecycle }) => ({ ...lifecycle.record, state: lifecycle.path })),
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
   * One batch of one partition. Side effects come in an order that keeps a throw safe: nothing is pushed
   * before every member list is read (a throw there hands the whole batch back), and the batch resolves
   * (is committed) only after pushes were attempted and poison records were written to `dead_letters`.
   */
  private async handle(batch: RecordBatch, consumerGroup: string): Promise<void> {
    const items: MessageItem[] = [];
    const letters: EventRecord[] = [];
    const poisoned: DeliveryLifecycle[] = [];
    for (const record of batch.records) {
      const parsed = parseRecord(record);
      if (parsed.kind === "poison") {
        const lifecycle = new DeliveryLifecycle({ chatId: record.key, sequence: 0 });
        lifecycle.send({ type: "POISON" });
        poisoned.push(lifecycle);
        letters.push(
          deadLetterRecord(record, {
            consumerGroup,
            consumerId: this.deps.nodeId,
            reason: parsed.reason,
            now: this.deps.clock.now(),
          }),
        );
        this.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, reason: parsed.reason },
          "poison record to dead_letters",
        );
      } else if (parsed.kind === "membership") {
        this.cache.invalidate(parsed.chatId);
        this.membershipEvents++;
      } else {
        if (parsed.eventVersion !== 1) {
          this.logger.warn(
            { event_version: parsed.eventVersion },
            "unknown MessagePersisted version; read as v1",
          );
        }
        const lifecycle = new DeliveryLifecycle({
          chatId: parsed.message.chatId,
          sequence: parsed.message.sequence,
        });
        const span = this.consumeSpan(record, parsed.message);
        items.push({
          message: parsed.message,
          excludeConnectionId: parsed.excludeConnectionId,
          lifecycle,
          recipients: [],
          span,
          traceparent: traceparentOfSpan(span),
        });
      }
    }

    this.running.add(items);
    try {
      const live = this.dropDuplicates(items);
      await this.resolveMembers(live);
      const online = live.filter((item) => item.lifecycle.state === "routing");
      if (online.length > 0) await this.routeAndPush(online);
    } catch (error) {
      for (const item of items) failSpan(item.span, error);
      throw error;
    } finally {
      this.running.delete(items);
      for (const item of items) {
        item.span.setAttribute("delivery_state", item.lifecycle.path);
        item.span.end();
      }
    }
    if (this.pusher.isAbandoned) {
      this.batchesHeld++;
      throw new AppError("SERVICE_UNAVAILABLE", "fanout worker abandoned its batch");
    }
    // Remembered before the dead letters are written: if that fails, the batch comes again without re-pushing.
    for (const item of items) {
      if (item.lifecycle.state === "done" || item.lifecycle.state === "skipped") {
        this.recent.add(item.message.chatId, item.message.sequence);
      }
    }
    if (letters.length > 0) {
      try {
        await this.deps.eventLog.publish(this.options.topics.deadLetters, letters);
      } catch (error) {
        // Never past a record that is neither handled nor dead-lettered: the batch comes again.
        this.batchesHeld++;
        throw error;
      }
      this.deadLettered += letters.length;
      for (const lifecycle of poisoned) this.counters.record(lifecycle);
    }
    for (const item of items) this.counters.record(item.lifecycle);
    const last = batch.records.at(-1);
    if (last !== undefined && batch.topic === this.options.topics.messagesPersisted) {
      this.finished.set(batch.partition, (BigInt(last.offset) + 1n).toString());
    }
  }

  private dropDuplicates(items: readonly MessageItem[]): MessageItem[] {
    const live: MessageItem[] = [];
    const inBatch = new Set<string>();
    for (const item of items) {
      const { chatId, sequence } = item.message;
      const key = `${chatId}#${sequence}`;
      if (this.recent.has(chatId, sequence) || inBatch.has(key)) {
        item.lifecycle.send({ type: "DUPLICATE" });
        continue;
      }
      inBatch.add(key);
      item.lifecycle.send({ type: "RESOLVE" });
      live.push(item);
    }
    return live;
  }

  /** Reads every chat's members (cache, else the durability plane); a failure hands the batch back. */
  private async resolveMembers(items: readonly MessageItem[]): Promise<void> {
    const chats = [...new Set(items.map((item) => item.message.chatId))];
    const members = new Map<ChatId, readonly UserId[]>();
    try {
      await Promise.all(
        chats.map(async (chatId) => {
          members.set(chatId, await this.cache.membersOf(chatId));
        }),
      );
    } catch (error) {
      for (const item of items) {
        item.lifecycle.send({ type: "MEMBERS_UNAVAILABLE" });
        this.counters.record(item.lifecycle);
      }
      this.batchesHeld++;
      throw new AppError("SERVICE_UNAVAILABLE", "chat members are unreadable; the batch is retried", {
        cause: error,
      });
    }
    for (const item of items) {
      item.recipients = members.get(item.message.chatId) ?? [];
      item.lifecycle.send({ type: item.recipients.length === 0 ? "NO_MEMBERS" : "MEMBERS_RESOLVED" });
    }
  }

  /**
   * Looks up each recipient's gateways (or, with routing down, takes every live gateway: each filters by its
   * own connections, D7), then pushes in waves: everything at once, except that a large chat's recipients
   * past the immediate ones are paced (./pacing.ts). Waves go one after another, so each gateway still sees
   * the deliveries in record order.
   */
  private async routeAndPush(items: readonly MessageItem[]): Promise<void> {
    const users = [...new Set(items.flatMap((item) => item.recipients))];
    let routes: Map<UserId, string[]> | undefined;
    try {
      routes = await this.deps.connections.gatewaysOfUsers(users);
    } catch (error) {
      this.logger.warn({ err: error }, "routing unavailable; broadcasting to every live gateway");
    }
    let targetsOf: (userId: UserId) => readonly ResolvedGateway[];
    const mode = routes === undefined ? "broadcast" : "routed";
    if (routes === undefined) {
      const all = await this.gateways.all();
      targetsOf = () => all;
    } else {
      const table = routes;
      const ids = new Set([...table.values()].flat());
      const known = ids.size === 0 ? new Map<string, ResolvedGateway>() : await this.gateways.byIds(ids);
      this.routing.unknownGateways += [...ids].filter((id) => !known.has(id)).length;
      targetsOf = (userId) => (table.get(userId) ?? []).flatMap((id) => known.get(id) ?? []);
    }

    const waves: Array<{ delayMs: number; targets: Target[] }> = [{ delayMs: 0, targets: [] }];
    for (const item of items) {
      this.routing[mode]++;
      const reached = new Set<string>();
      const online = item.recipients.filter((userId) => targetsOf(userId).length > 0);
      const slices = pacedSlices(online, item.recipients.length, this.options.pacing);
      for (const [index, slice] of slices.entries()) {
        if (index > 0) waves.push({ delayMs: slice.delayMs, targets: [] });
        const wave = waves[waves.length - 1];
        for (const userId of slice.recipients) {
          const delivery = this.deliveryOf(item, userId);
          for (const gateway of targetsOf(userId)) {
            reached.add(gateway.node.nodeId);
            wave?.targets.push([gateway, delivery]);
          }
        }
      }
      item.lifecycle.send({ type: reached.size === 0 ? "NOBODY_ONLINE" : "ROUTED" });
    }

    for (const wave of waves) {
      if (this.pusher.isAbandoned) break;
      if (wave.delayMs > 0) await this.pusher.pause(wave.delayMs);
      await this.pusher.push(byGateway(wave.targets));
    }
    for (const item of items) if (item.lifecycle.state === "pushing") item.lifecycle.send({ type: "PUSHED" });
  }

  private deliveryOf(item: MessageItem, userId: UserId): Delivery {
    return {
      userId,
      message: item.message,
      ...(item.excludeConnectionId === undefined ? {} : { excludeConnectionId: item.excludeConnectionId }),
      ...(item.traceparent === undefined ? {} : { traceparent: item.traceparent }),
    };
  }

  /** Continues the publication's span from the record's `traceparent` header (a new trace without one). */
  private consumeSpan(record: ConsumedRecord, message: Delivery["message"]): Span {
    return this.tracer.startSpan(
      "fanout.consume",
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          chat_id: message.chatId,
          message_id: message.messageId,
          sequence: message.sequence,
        },
      },
      contextOf(record.headers[TRACEPARENT]),
    );
  }

  private onHandlerError(error: unknown, batch: RecordBatch): void {
    this.logger.warn(
      { err: error, topic: batch.topic, partition: batch.partition, records: batch.records.length },
      "fanout batch not committed; it will be delivered again",
    );
  }
}

function byGateway(
  targets: readonly Target[],
): Map<string, { gateway: ResolvedGateway; deliveries: Delivery[] }> {
  const grouped = new Map<string, { gateway: ResolvedGateway; deliveries: Delivery[] }>();
  for (const [gateway, delivery] of targets) {
    let entry = grouped.get(gateway.node.nodeId);
    if (entry === undefined) {
      entry = { gateway, deliveries: [] };
      grouped.set(gateway.node.nodeId, entry);
    }
    entry.deliveries.push(delivery);
  }
  return grouped;
}
