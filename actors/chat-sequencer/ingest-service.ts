import type { Tracer } from "@opentelemetry/api";
import { ActorHost, type LifecycleActor } from "../../runtime/actor-host.js";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import { toAppError } from "../../runtime/errors.js";
import type { ChatId, IdFactory, UserId } from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import type { Logger } from "../../runtime/logger.js";
import { measuredEventLog } from "../../runtime/metrics/measured-event-log.js";
import {
  type ActorRecorder,
  type DurabilityRecorder,
  NO_DURABILITY_METRICS,
} from "../../runtime/metrics/recorders.js";
import { DEFAULT_ACTIVATION_LEASE_MS } from "../../runtime/placement/activation-recovery.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog, Subscription } from "../../runtime/ports/event-log.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { contextOf, traceparentOfSpan } from "../../runtime/tracing/propagation.js";
import { withinSpan } from "../../runtime/tracing/span-outcome.js";
import { NOOP_TRACER } from "../../runtime/tracing/tracing.js";
import {
  ChatSequencer,
  type ChatSequencerOptions,
  type SequencerMessage,
  type SequencerReply,
  type WakeResult,
} from "./chat-sequencer.js";
import { DeliveryWrites } from "./delivery-writes.js";
import { type Failpoints, NO_FAILPOINTS } from "./failpoints.js";
import { IndexReader } from "./index-reader.js";
import { IndexWriter } from "./index-writer.js";
import { INGEST_DEFAULTS } from "./ingest-defaults.js";
import { MEMBERSHIP_GATE_DEFAULTS, MembershipGate, type MembershipGateOptions } from "./membership-gate.js";
import { MembershipReader } from "./membership-reader.js";
import { validateAck, validatePersist, validateSync } from "./validation.js";

export { INGEST_DEFAULTS } from "./ingest-defaults.js";

/**
 * The ingest role's service: hosts one ChatSequencer actor per active chat and answers IngestApi calls by
 * sending them to the chat's mailbox. Embedded, callers use this object directly; in a cluster the gRPC
 * server in front of it (runtime/grpc) serves the same calls.
 */
export interface IngestServiceOptions {
  readonly messageStore: MessageStore;
  readonly chatStore: ChatStore;
  readonly eventLog: EventLog;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly logger: Logger;
  /** `producer_id` of published events: this node. */
  readonly producerId: string;
  /** A sequencer idle this long drains and passivates. */
  readonly idleTimeoutMs?: number;
  readonly failpoints?: Failpoints;
  readonly onLifecycle?: (chatId: string, lifecycle: LifecycleActor) => void;
  /**
   * Placement (D5): throws NOT_OWNER for chats this node does not own. Absent when the process is the only
   * ingest node (embedded), which owns every chat.
   */
  readonly ownership?: { check(chatId: ChatId): void };
  /**
   * Where sequencers record that they are active, so a crash leaves a trail to recover (invariant 5); the
   * lease defaults to DEFAULT_ACTIVATION_LEASE_MS.
   */
  readonly activations?: Omit<NonNullable<ChatSequencerOptions["activations"]>, "leaseMs"> & {
    readonly leaseMs?: number;
  };
  /** D16 rule 9: acks are written behind, at most once per this many ms per (chat, user). */
  readonly deliveryFlushMs?: number;
  /** D16: caps of one block; defaults INGEST_DEFAULTS.blockMaxMessages / blockMaxBytes. */
  readonly blocks?: { readonly maxMessages: number; readonly maxBytes: number };
  /** Spans `durability.persist` and `durability.kafka_produce` (spec §3); default: records nothing. */
  readonly tracer?: Tracer;
  /** What the durability plane records (runtime/metrics); absent: nothing is recorded. */
  readonly metrics?: { readonly durability: DurabilityRecorder; readonly actors: ActorRecorder };
  /** The membership check in front of activation; defaults MEMBERSHIP_GATE_DEFAULTS. */
  readonly membershipGate?: Partial<
    Pick<MembershipGateOptions, "memberTtlMs" | "nonMemberTtlMs" | "maxEntries">
  >;
}

export class IngestService implements IngestApi {
  readonly host: ActorHost<SequencerMessage, SequencerReply>;
  private readonly ownership: { check(chatId: ChatId): void } | undefined;
  private readonly tracer: Tracer;
  private readonly metrics: DurabilityRecorder;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly restartDelayMs: number = INGEST_DEFAULTS.publishRetryMs;
  private readonly restarts = new Set<TimerHandle>();
  /** The node's write-behind of delivery_state (D16 rule 9). */
  readonly deliveryWrites: DeliveryWrites;
  /** Refuses non-members before a sequencer is activated for them. */
  readonly membershipGate: MembershipGate;
  private stopped = false;
  private readonly eventLog: EventLog;
  private membershipEvents: Promise<Subscription | undefined> | undefined;

  constructor(options: IngestServiceOptions) {
    this.metrics = options.metrics?.durability ?? NO_DURABILITY_METRICS;
    this.clock = options.clock;
    const eventLog =
      options.metrics === undefined
        ? options.eventLog
        : measuredEventLog(options.eventLog, options.metrics.durability, options.clock);
    this.eventLog = options.eventLog;
    this.tracer = options.tracer ?? NOOP_TRACER;
    const logger = options.logger.child({ component: "ingest" });
    this.logger = logger;
    const memberships = new MembershipReader(options.chatStore);
    this.membershipGate = new MembershipGate({
      ...MEMBERSHIP_GATE_DEFAULTS,
      ...options.membershipGate,
      memberships,
      chatStore: options.chatStore,
      clock: options.clock,
    });
    const indexReader = new IndexReader(options.messageStore);
    const indexWriter = new IndexWriter(options.messageStore);
    this.deliveryWrites = new DeliveryWrites({
      store: options.messageStore,
      clock: options.clock,
      logger,
      flushMs: options.deliveryFlushMs ?? INGEST_DEFAULTS.deliveryFlushMs,
      retryMs: INGEST_DEFAULTS.publishRetryMs,
      maxRetryMs: INGEST_DEFAULTS.deliveryMaxRetryMs,
      maxInFlight: INGEST_DEFAULTS.deliveryMaxInFlight,
    });
    const deliveryWrites = this.deliveryWrites;
    const blocks = options.blocks ?? {
      maxMessages: INGEST_DEFAULTS.blockMaxMessages,
      maxBytes: INGEST_DEFAULTS.blockMaxBytes,
    };
    this.ownership = options.ownership;
    this.host = new ActorHost<SequencerMessage, SequencerReply>({
      clock: options.clock,
      logger,
      idleTimeoutMs: options.idleTimeoutMs ?? INGEST_DEFAULTS.idleTimeoutMs,
      maxBatch: INGEST_DEFAULTS.maxBatch,
      ...(options.onLifecycle === undefined ? {} : { onLifecycle: options.onLifecycle }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics.actors }),
      // A crashed sequencer took its outbox with it: wake the chat again after a pause, so what it acknowledged
      // is published even if nobody sends to the chat (the node's recovery sweep is the backstop).
      onCrashed: (chatId) => this.restartLater(chatId as ChatId),
      create: (chatId) =>
        new ChatSequencer({
          chatId: chatId as PersistRequest["chatId"],
          messageStore: options.messageStore,
          chatStore: options.chatStore,
          memberships,
          indexReader,
          indexWriter,
          deliveryWrites,
          blockMaxMessages: blocks.maxMessages,
          blockMaxBytes: blocks.maxBytes,
          memoryLimit: INGEST_DEFAULTS.memoryLimit,
          indexBatchMessages: INGEST_DEFAULTS.indexBatchMessages,
          indexDelayMs: INGEST_DEFAULTS.indexDelayMs,
          eventLog,
          clock: options.clock,
          ids: options.ids,
          logger,
          producerId: options.producerId,
          tracer: this.tracer,
          metrics: this.metrics,
          failpoints: options.failpoints ?? NO_FAILPOINTS,
          idempotencyTtlMs: INGEST_DEFAULTS.idempotencyTtlMs,
          recentSendsLimit: INGEST_DEFAULTS.recentSendsLimit,
          publishRetryMs: INGEST_DEFAULTS.publishRetryMs,
          countersFlushMs: INGEST_DEFAULTS.countersFlushMs,
          countersFlushMessages: INGEST_DEFAULTS.countersFlushMessages,
          ...(options.activations === undefined
            ? {}
            : {
                activations: {
                  leaseMs: DEFAULT_ACTIVATION_LEASE_MS,
                  ...options.activations,
                },
              }),
        }),
    });
  }

  /**
   * The span continues the caller's trace (gateway → ingest); the request then carries the span's own context
   * into the mailbox, so the event the outbox publishes later (maybe after a retry) continues this span.
   */
  async persist(request: PersistRequest): Promise<PersistResult> {
    const startedAt = this.clock.now();
    const span = this.tracer.startSpan(
      "durability.persist",
      { attributes: { chat_id: request.chatId, client_message_id: request.clientMessageId } },
      contextOf(request.traceparent),
    );
    const persisted = withinSpan(span, async () => {
      validatePersist(request);
      this.ownership?.check(request.chatId);
      await this.admit(request.chatId, request.senderId);
      const { traceparent: _caller, ...untraced } = request;
      const traceparent = traceparentOfSpan(span);
      const traced: PersistRequest =
        traceparent === undefined
          ? untraced
          : { ...untraced, traceparent, traceId: request.traceId ?? span.spanContext().traceId };
      const result = (await this.host.ask(request.chatId, {
        kind: "persist",
        request: traced,
      })) as PersistResult;
      span.setAttributes({
        message_id: result.messageId,
        allocated_sequence: result.sequence,
        idempotency_hit: result.deduplicated,
      });
      return result;
    });
    return persisted.then(
      (result) => {
        this.metrics.persisted(result.deduplicated, (this.clock.now() - startedAt) / 1000);
        return result;
      },
      (error: unknown) => {
        this.metrics.persistFailed(toAppError(error).code);
        throw error;
      },
    );
  }

  /** Where each active sequencer is in its write cycle (D16), by chat: for the inspector. */
  writeCycles(): ReadonlyMap<string, string> {
    const states = new Map<string, string>();
    for (const chatId of this.host.activeKeys()) {
      const state = this.sequencerOf(chatId as ChatId)?.position.writeCycle;
      if (state !== undefined) states.set(chatId, state);
    }
    return states;
  }

  async sync(request: SyncRequest): Promise<SyncResult> {
    try {
      validateSync(request);
      this.ownership?.check(request.chatId);
      await this.admit(request.chatId, request.userId);
      const result = (await this.host.ask(request.chatId, { kind: "sync", request })) as SyncResult;
      this.metrics.synced();
      return result;
    } catch (error) {
      this.metrics.synced(toAppError(error).code);
      throw error;
    }
  }

  async ack(request: AckRequest): Promise<AckResult> {
    validateAck(request);
    this.ownership?.check(request.chatId);
    await this.admit(request.chatId, request.userId);
    return (await this.host.ask(request.chatId, { kind: "ack", request })) as AckResult;
  }

  /**
   * Activates a chat's sequencer without a request, which resumes its outbox: how a new owner recovers what
   * a crashed holder acknowledged but never published. Refused with NOT_OWNER like any call.
   */
  async wake(chatId: ChatId): Promise<WakeResult> {
    this.ownership?.check(chatId);
    return (await this.host.ask(chatId, { kind: "wake" })) as WakeResult;
  }

  /**
   * A request may activate a sequencer only for a member (see MembershipGate). A chat whose sequencer is live
   * costs nothing to ask: it checks membership itself, after its own dedup (a stored send is answered).
   */
  private admit(chatId: ChatId, userId: UserId): Promise<void> | undefined {
    if (this.host.instanceOf(chatId) !== undefined) return undefined;
    return this.membershipGate.admit(chatId, userId);
  }

  private restartLater(chatId: ChatId): void {
    const timer = this.clock.setTimeout(() => {
      this.restarts.delete(timer);
      if (this.stopped) return;
      this.wake(chatId).catch((error: unknown) =>
        this.logger.warn({ err: error, chat_id: chatId }, "restarting a crashed sequencer failed"),
      );
    }, this.restartDelayMs);
    this.restarts.add(timer);
  }

  /** The live sequencer of a chat (for inspection and tests), if one is active. */
  sequencerOf(chatId: string): ChatSequencer | undefined {
    const instance = this.host.instanceOf(chatId);
    return instance instanceof ChatSequencer ? instance : undefined;
  }

  /**
   * Keeps the membership gate in step with chat management: its answers for a chat are dropped when a
   * membership event of the chat arrives (a node without it relies on the gate's short TTLs alone).
   */
  followMembershipEvents(nodeId: string): void {
    if (this.membershipEvents !== undefined || this.stopped) return;
    // Not awaited by callers: joining a Kafka group takes seconds, and the TTLs bound staleness meanwhile.
    this.membershipEvents = this.membershipGate.follow(this.eventLog, nodeId, this.logger).catch((error) => {
      this.logger.warn({ err: error }, "membership events unavailable; the gate relies on its TTLs");
      return undefined;
    });
  }

  /** Drains every sequencer (publishing outboxes) and refuses new calls. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await (await this.membershipEvents)?.stop();
    for (const timer of this.restarts) this.clock.clearTimeout(timer);
    this.restarts.clear();
    await this.host.shutdown();
    // Drains flushed each chat's acks; whatever a chat that could not drain left is written now.
    await this.deliveryWrites.flushAll();
    this.deliveryWrites.stop();
  }
}
