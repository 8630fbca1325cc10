import { pino } from "pino";
import {
  ChatSequencer,
  type SequencerMessage,
  type SequencerReply,
  type WakeResult,
} from "../../actors/chat-sequencer/chat-sequencer.js";
import { DeliveryWrites } from "../../actors/chat-sequencer/delivery-writes.js";
import { NO_FAILPOINTS } from "../../actors/chat-sequencer/failpoints.js";
import { IndexReader } from "../../actors/chat-sequencer/index-reader.js";
import { IndexWriter } from "../../actors/chat-sequencer/index-writer.js";
import { INGEST_DEFAULTS } from "../../actors/chat-sequencer/ingest-service.js";
import { MembershipReader } from "../../actors/chat-sequencer/membership-reader.js";
import { ActorHost } from "../../runtime/actor-host.js";
import type { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import type { ManualClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type RandomBytes } from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog } from "../../runtime/ports/event-log.js";
import { NOOP_TRACER } from "../../runtime/tracing/tracing.js";
import type { Random } from "../harness/backoff.js";
import { ScheduledEventLog, ScheduledMessageStore } from "./scheduled-ports.js";
import type { StepScheduler } from "./scheduler.js";

/** The tuning of one owner's sequencers: what may differ between two versions or two nodes of a cluster. */
export interface OwnerTuning {
  /** D16 block cap; rule 7 says no reader may assume it, so owners of one chat use different ones. */
  readonly blockMaxMessages: number;
  /** Index records are written once this many messages wait (small: the watermark moves often). */
  readonly indexBatchMessages: number;
  /** The recent-sends window (small: retries reach memory and the index instead). */
  readonly recentSendsLimit: number;
  /** client_message_ids held above indexed_through before sends are refused (rule 5). */
  readonly memoryLimit: number;
}

export interface OwnerWorld {
  readonly store: MemoryMessageStore;
  readonly chatStore: ChatStore;
  readonly eventLog: EventLog;
  readonly clock: ManualClock;
  readonly scheduler: StepScheduler;
  /** Called with each warning or error an owner logs (it goes into the trace; errors are violations). */
  readonly onLog: (owner: string, level: number, line: string) => void;
}

const seededBytes =
  (random: Random): RandomBytes =>
  (length) =>
    Uint8Array.from({ length }, () => Math.floor(random() * 256));

/**
 * One ingest process of the simulation: the composition IngestService makes (an ActorHost of ChatSequencers
 * with the node's coalesced membership and index reads, batched index writes and delivery-state write-behind),
 * on the owner's scheduled view of the shared store and log, with its tuning chosen by the run. Crashing it
 * abandons it as a dead process: its requests in flight land or not, nothing of it reaches storage again.
 */
export class SimOwner {
  readonly host: ActorHost<SequencerMessage, SequencerReply>;
  private readonly deliveryWrites: DeliveryWrites;

  constructor(
    readonly name: string,
    readonly tuning: OwnerTuning,
    private readonly world: OwnerWorld,
    random: Random,
  ) {
    const store = new ScheduledMessageStore(world.store, name, world.scheduler);
    const eventLog = new ScheduledEventLog(world.eventLog, name, world.scheduler);
    const logger = pino(
      { level: "warn", base: { owner: name } },
      { write: (line: string) => this.log(line) },
    );
    const memberships = new MembershipReader(world.chatStore);
    const indexReader = new IndexReader(store);
    const indexWriter = new IndexWriter(store);
    // As IngestService builds it.
    this.deliveryWrites = new DeliveryWrites({
      store,
      clock: world.clock,
      logger,
      flushMs: INGEST_DEFAULTS.deliveryFlushMs,
      retryMs: INGEST_DEFAULTS.publishRetryMs,
      maxRetryMs: INGEST_DEFAULTS.deliveryMaxRetryMs,
      maxInFlight: INGEST_DEFAULTS.deliveryMaxInFlight,
    });
    const ids = new IdFactory(world.clock, seededBytes(random));
    this.host = new ActorHost<SequencerMessage, SequencerReply>({
      clock: world.clock,
      logger,
      idleTimeoutMs: INGEST_DEFAULTS.idleTimeoutMs,
      maxBatch: INGEST_DEFAULTS.maxBatch,
      // As IngestService does: a crashed sequencer is woken again after a pause.
      onCrashed: (chatId) => {
        world.clock.setTimeout(() => {
          if (!this.dead) this.wake(chatId as ChatId).catch(() => {});
        }, INGEST_DEFAULTS.publishRetryMs);
      },
      create: (chatId) =>
        new ChatSequencer({
          chatId: chatId as ChatId,
          messageStore: store,
          chatStore: world.chatStore,
          memberships,
          indexReader,
          indexWriter,
          deliveryWrites: this.deliveryWrites,
          blockMaxMessages: tuning.blockMaxMessages,
          blockMaxBytes: INGEST_DEFAULTS.blockMaxBytes,
          memoryLimit: tuning.memoryLimit,
          indexBatchMessages: tuning.indexBatchMessages,
          indexDelayMs: INGEST_DEFAULTS.indexDelayMs,
          eventLog,
          clock: world.clock,
          ids,
          logger,
          producerId: name,
          tracer: NOOP_TRACER,
          failpoints: NO_FAILPOINTS,
          idempotencyTtlMs: INGEST_DEFAULTS.idempotencyTtlMs,
          recentSendsLimit: tuning.recentSendsLimit,
          publishRetryMs: INGEST_DEFAULTS.publishRetryMs,
          countersFlushMs: INGEST_DEFAULTS.countersFlushMs,
          countersFlushMessages: INGEST_DEFAULTS.countersFlushMessages,
        }),
    });
  }

  get dead(): boolean {
    return this.world.scheduler.isDead(this.name);
  }

  describe(): string {
    const { blockMaxMessages, indexBatchMessages, recentSendsLimit, memoryLimit } = this.tuning;
    return `${this.name}(block<=${blockMaxMessages}, index batch ${indexBatchMessages}, recent ${recentSendsLimit}, memory ${memoryLimit})`;
  }

  persist(request: PersistRequest): Promise<PersistResult> {
    return this.host.ask(request.chatId, { kind: "persist", request }) as Promise<PersistResult>;
  }

  sync(request: SyncRequest): Promise<SyncResult> {
    return this.host.ask(request.chatId, { kind: "sync", request }) as Promise<SyncResult>;
  }

  ack(request: AckRequest): Promise<AckResult> {
    return this.host.ask(request.chatId, { kind: "ack", request }) as Promise<AckResult>;
  }

  wake(chatId: ChatId): Promise<WakeResult> {
    return this.host.ask(chatId, { kind: "wake" }) as Promise<WakeResult>;
  }

  /** Drains and passivates the chat's sequencer (ownership lost, or a clean stop). */
  passivate(chatId: ChatId): Promise<void> {
    return this.host.passivate(chatId);
  }

  /** What the chat's live sequencer believes, for the trace. */
  position(chatId: ChatId): string {
    const instance = this.host.instanceOf(chatId);
    if (!(instance instanceof ChatSequencer)) return "inactive";
    const { tail, publishedThrough, indexedThrough, held, writeCycle } = instance.position;
    return `tail=${tail} pub=${publishedThrough} idx=${indexedThrough} held=${held} ${writeCycle}`;
  }

  /** The process dies (like test/durability/crash.test.ts `abandon`): nothing of it runs against storage again. */
  async crash(): Promise<void> {
    await this.world.scheduler.kill(this.name);
    for (const key of this.host.activeKeys()) this.host.instanceOf(key)?.dispose();
    this.deliveryWrites.stop();
  }

  private log(line: string): void {
    const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
    const cause = entry.err?.message === undefined ? "" : ` (${entry.err.message})`;
    this.world.onLog(this.name, entry.level, `${entry.msg}${cause}`);
  }
}
