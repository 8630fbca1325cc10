import type { Tracer } from "@opentelemetry/api";
import type { ActorInstance, Envelope } from "../../runtime/actor-host.js";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import { type ChatId, type IdFactory, type MessageId, toSequence, type UserId } from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import { SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT } from "../../runtime/ingest-api.js";
import type { Logger } from "../../runtime/logger.js";
import type { DurabilityRecorder } from "../../runtime/metrics/recorders.js";
import type { ActivationStore } from "../../runtime/ports/activation-store.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog } from "../../runtime/ports/event-log.js";
import type {
  BlockPutOutcome,
  IdempotencyRecord,
  MessageStore,
  StoredMessage,
} from "../../runtime/ports/message-store.js";
import type { DeliveryWrites } from "./delivery-writes.js";
import { type Failpoints, SimulatedCrash } from "./failpoints.js";
import type { IndexReader } from "./index-reader.js";
import type { IndexWriter } from "./index-writer.js";
import type { MembershipReader } from "./membership-reader.js";
import { Outbox } from "./outbox.js";
import { type RecentSend, RecentSends } from "./recent-sends.js";
import type { WriteCycleState } from "./write-cycle.machine.js";
import { WriteCycleDriver } from "./write-cycle-driver.js";
import { WriteMemory } from "./write-memory.js";

/**
 * The single writer of one chat (D2, D16). Its mailbox serialises the chat's sends; while one write is in
 * flight the sends that arrive wait in the mailbox and form the next batch (no artificial wait: an idle chat
 * commits a batch of one at once). One write cycle:
 *
 * 1. collect the batch's sends; answer at once those whose client_message_id is in memory (the blocks above
 *    `indexed_through`, and a window of recent ones);
 * 2. check the rest: the senders' memberships and, for client_message_ids not in memory, the index
 *    (`idempotency_keys`), both strongly consistent and coalesced across the node's chats;
 * 3. commit the new sends as blocks, each one conditional put at `tail + 1` (rule 1: the tail is only ever
 *    the last sequence of the greatest block as read). A conflict means another owner extended the chain:
 *    every block above the tail is read into memory (rule 2), the batch is matched against it by
 *    client_message_id (rule 6) and the rest is committed at the new tail;
 * 4. acknowledge every message of a stored block (D1); 5. write its index records behind the ack, batched
 *    across the node, then move `indexed_through` by compare-and-set (rule 3); 6. publish through the
 *    ordered outbox (D4).
 *
 * Blocks form a single chain with neither overlaps nor gaps, so nothing can become visible above an
 * unresolved sequence (D3), even with two owners at once.
 */
export type SequencerMessage =
  | { readonly kind: "persist"; readonly request: PersistRequest }
  | { readonly kind: "sync"; readonly request: SyncRequest }
  | { readonly kind: "ack"; readonly request: AckRequest }
  /** Activates the sequencer (which resumes its outbox) and answers at once: recovery of a quiet chat. */
  | { readonly kind: "wake" };
/** The answer to `wake`: the tail the activated sequencer found. */
export interface WakeResult {
  readonly tail: number;
}
export type SequencerReply = PersistResult | SyncResult | AckResult | WakeResult;
type SequencerEnvelope = Envelope<SequencerMessage, SequencerReply>;
type PersistEnvelope = SequencerEnvelope & { readonly message: { kind: "persist"; request: PersistRequest } };

export interface ChatSequencerOptions {
  readonly chatId: ChatId;
  readonly messageStore: MessageStore;
  readonly chatStore: ChatStore;
  /** The node's coalesced, strongly consistent membership checks. */
  readonly memberships: MembershipReader;
  /** The node's coalesced, strongly consistent index lookups (D16). */
  readonly indexReader: IndexReader;
  /** The node's batched index writes (D16). */
  readonly indexWriter: IndexWriter;
  /** The node's write-behind of delivery_state (D16 rule 9). */
  readonly deliveryWrites: DeliveryWrites;
  /** Caps of one block (D16): messages, and bytes of content plus a fixed allowance per message. */
  readonly blockMaxMessages: number;
  readonly blockMaxBytes: number;
  /** client_message_ids held above `indexed_through` at most; sends are refused while it is full (rule 5). */
  readonly memoryLimit: number;
  /** Index records are written once this many messages wait for them … */
  readonly indexBatchMessages: number;
  /** … or this long after the first of them (and always when draining). */
  readonly indexDelayMs: number;
  readonly eventLog: EventLog;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly logger: Logger;
  readonly producerId: string;
  /** Spans of the outbox's publications (`durability.kafka_produce`). */
  readonly tracer: Tracer;
  /** Counts written messages and fencing conflicts; absent: nothing is recorded. */
  readonly metrics?: DurabilityRecorder;
  readonly failpoints: Failpoints;
  /** How long a client_message_id is remembered durably (protocol §13: 7 days). */
  readonly idempotencyTtlMs: number;
  /** Stored messages remembered per chat beyond the watermark, so a quick retry needs no lookup. */
  readonly recentSendsLimit: number;
  readonly publishRetryMs: number;
  readonly countersFlushMs: number;
  readonly countersFlushMessages: number;
  /** Where this sequencer records that it is active (invariant 5 recovery); absent = not recorded. */
  readonly activations?: {
    readonly store: ActivationStore;
    readonly nodeId: string;
    readonly incarnation: string;
    /**
     * A marker older than this may be evicted by the chat's owner once it woke the chat; the sequencer
     * refreshes its marker before writing once half of it has passed (runtime/placement/activation-recovery).
     */
    readonly leaseMs: number;
  };
}

/** Rounds of "another owner extended the chain: reload and commit again" before giving up for now. */
const MAX_COMMIT_ROUNDS = 8;
/** What one message adds to a block beyond its content: ids, sender, times (a generous estimate). */
const MESSAGE_OVERHEAD_BYTES = 256;

/** A send on its way into a block, with its message id and time, kept across conflicts. */
interface Draft {
  readonly envelope: PersistEnvelope;
  readonly messageId: MessageId;
}

const bytesOf = (request: PersistRequest): number =>
  Buffer.byteLength(request.content, "utf8") + MESSAGE_OVERHEAD_BYTES;

export class ChatSequencer implements ActorInstance<SequencerMessage, SequencerReply> {
  private tail = 0;
  /** A read showed blocks above `tail` (or a put's outcome is unknown): reload before the next commit. */
  private stale = false;
  /** When this sequencer last wrote its activation marker. */
  private markerHeldAt = 0;
  private readonly recent: RecentSends;
  private readonly memory: WriteMemory;
  private readonly outbox: Outbox;
  /** Index lookups of this sequencer outstanding (rule 5: memory is not pruned meanwhile). */
  private lookups = 0;
  /** The chain of watermark moves, one at a time. */
  private indexing: Promise<void> = Promise.resolve();
  private indexTimer: TimerHandle | undefined;
  private disposed = false;
  /** The sends of the batch the write cycle is committing, in arrival order. */
  private queue: Draft[] = [];
  /** The storage error that ended the last put or reload, for the machine's refusal. */
  private lastError: AppError | undefined;
  private readonly cycle = new WriteCycleDriver(
    {
      refuseFull: () =>
        this.refuseQueue(new AppError("SERVICE_UNAVAILABLE", "the chat's write path is full; retry")),
      refuseContended: () =>
        this.refuseQueue(
          new AppError("SERVICE_UNAVAILABLE", "the chat is contended; retry", {
            details: { chat_id: this.options.chatId },
          }),
        ),
      refuseStorageError: () =>
        this.refuseQueue(this.lastError ?? new AppError("SERVICE_UNAVAILABLE", "storage failed; retry")),
    },
    MAX_COMMIT_ROUNDS,
  );

  constructor(private readonly options: ChatSequencerOptions) {
    this.recent = new RecentSends(options.recentSendsLimit);
    this.memory = new WriteMemory(options.memoryLimit);
    this.outbox = new Outbox({
      chatId: options.chatId,
      store: options.messageStore,
      eventLog: options.eventLog,
      clock: options.clock,
      ids: options.ids,
      logger: options.logger,
      producerId: options.producerId,
      tracer: options.tracer,
      failpoints: options.failpoints,
      retryMs: options.publishRetryMs,
      countersFlushMs: options.countersFlushMs,
      countersFlushMessages: options.countersFlushMessages,
      maxBatch: 500,
    });
  }

  /**
   * Reads the counters, then every block above `indexed_through` into memory (rule 2), which also finds the
   * tail; resumes publication from the counter and indexing of what was read.
   */
  async activate(): Promise<void> {
    // The marker is stored before any message write (if this process dies after writing messages, someone
    // finds the chat to recover); reads need not wait for it, so the counters are read meanwhile.
    const [, counters] = await Promise.all([
      this.holdMarker(),
      this.options.messageStore.getCounters(this.options.chatId),
    ]);
    const indexedThrough = counters?.indexedThrough ?? 0;
    this.memory.reset(indexedThrough);
    this.tail = indexedThrough;
    await this.reload();
    this.outbox.start(counters?.publishedThrough ?? 0, this.tail);
  }

  async receive(batch: readonly SequencerEnvelope[]): Promise<void> {
    let sends: PersistEnvelope[] = [];
    for (const envelope of batch) {
      const { message } = envelope;
      if (message.kind === "persist") {
        sends.push(envelope as PersistEnvelope);
        continue;
      }
      await this.persistAll(sends);
      sends = [];
      await this.answer(envelope, async () => {
        switch (message.kind) {
          case "sync":
            return this.sync(message.request);
          case "ack":
            return this.ack(message.request);
          case "wake":
            return { tail: this.tail };
        }
      });
    }
    await this.persistAll(sends);
  }

  /**
   * Publishes the outbox through the tail as stored now, not as this instance knew it: another owner may have
   * written above it and died before publishing (its marker may already be gone). Once all of that is
   * published, this holder's activation marker goes (nothing is left for it to recover).
   */
  async drain(): Promise<boolean> {
    await this.reload();
    this.outbox.raiseTail(this.tail);
    const drained = await this.outbox.drain();
    await this.flushIndex();
    if (await this.options.deliveryWrites.flushChat(this.options.chatId))
      this.options.deliveryWrites.forgetChat(this.options.chatId);
    const holder = this.options.activations;
    if (drained && holder !== undefined) {
      await holder.store.release(this.options.chatId, holder).catch((error: unknown) =>
        // A marker left behind only costs the owner a spare activation later.
        this.options.logger.warn(
          { err: error, chat_id: this.options.chatId },
          "releasing the activation failed",
        ),
      );
    }
    return drained;
  }

  dispose(): void {
    this.disposed = true;
    this.outbox.stop();
    if (this.indexTimer !== undefined) this.options.clock.clearTimeout(this.indexTimer);
  }

  /** For inspection and tests: the tail, outbox position and stored watermark this instance believes in. */
  get position(): {
    readonly tail: number;
    readonly publishedThrough: number;
    readonly indexedThrough: number;
    readonly held: number;
    readonly writeCycle: WriteCycleState;
  } {
    return {
      writeCycle: this.cycle.state,
      tail: this.tail,
      publishedThrough: this.outbox.position.publishedThrough,
      indexedThrough: this.memory.indexedThrough,
      held: this.memory.size,
    };
  }

  /** Writes (or refreshes) this holder's own marker; another owner's marker of the chat is never touched. */
  private async holdMarker(): Promise<void> {
    const holder = this.options.activations;
    if (holder === undefined) return;
    const now = this.options.clock.now();
    await holder.store.hold({
      chatId: this.options.chatId,
      nodeId: holder.nodeId,
      incarnation: holder.incarnation,
      activatedAt: now,
    });
    this.markerHeldAt = now;
  }

  /**
   * Before a write: a marker older than half a lease may be evicted by an owner that decided this holder is
   * gone (it is cut off from the heartbeats, or was paused); refreshing it first keeps a trail in place for
   * every message this holder may fail to publish.
   */
  private async keepMarker(): Promise<void> {
    const holder = this.options.activations;
    if (holder === undefined) return;
    if (this.options.clock.now() - this.markerHeldAt >= holder.leaseMs / 2) await this.holdMarker();
  }

  private async answer(envelope: SequencerEnvelope, work: () => Promise<SequencerReply>): Promise<void> {
    try {
      envelope.resolve(await work());
    } catch (error) {
      if (error instanceof AppError) envelope.reject(error);
      else throw error;
    }
  }

  /** What memory knows of a client_message_id: the blocks above the watermark, then the recent window. */
  private known(clientMessageId: string): StoredMessage | RecentSend | undefined {
    return this.memory.get(clientMessageId) ?? this.recent.get(clientMessageId);
  }

  private answerStored(envelope: PersistEnvelope, stored: StoredMessage | RecentSend): void {
    envelope.resolve({
      messageId: stored.messageId,
      sequence: stored.sequence,
      createdAt: stored.createdAt,
      deduplicated: true,
    });
    this.outbox.nudge(); // D4: a retry of a stored, unpublished message triggers publication
  }

  /** One write cycle over a run of consecutive sends (see the class comment). */
  private async persistAll(sends: readonly PersistEnvelope[]): Promise<void> {
    if (sends.length === 0) return;
    // 1. Memory, and the same client_message_id twice in one run (the later ones follow the first).
    const fresh: PersistEnvelope[] = [];
    const firstOfId = new Map<string, PersistEnvelope>();
    const repeats: PersistEnvelope[] = [];
    for (const envelope of sends) {
      const { clientMessageId } = envelope.message.request;
      const known = this.known(clientMessageId);
      if (known !== undefined) this.answerStored(envelope, known);
      else if (firstOfId.has(clientMessageId)) repeats.push(envelope);
      else {
        firstOfId.set(clientMessageId, envelope);
        fresh.push(envelope);
      }
    }
    try {
      if (fresh.length > 0) {
        // 2. Membership and index, concurrently; 3-6. the machine drives the rest.
        this.cycle.send({ type: "BATCH", sends: fresh.length });
        const checked = await this.check(fresh);
        if (checked.length > 0) this.options.failpoints.hit("after-lookup");
        this.queue = checked.map((envelope) => ({ envelope, messageId: this.options.ids.message() }));
        this.cycle.send({ type: "CHECKED", fresh: checked.length });
        await this.runCycle();
      }
    } finally {
      for (const repeat of repeats) {
        const known = this.known(repeat.message.request.clientMessageId);
        if (known !== undefined) this.answerStored(repeat, known);
        else
          repeat.reject(
            new AppError("SERVICE_UNAVAILABLE", "the first send of this client_message_id failed; retry"),
          );
      }
    }
  }

  /**
   * Step 2: the senders' memberships and the index records of the client_message_ids not in memory. A record
   * counts only when the message at its sequence carries its client_message_id (a claim of the per-message
   * format may point at a sequence another message took). Returns the sends that are new.
   */
  private async check(sends: readonly PersistEnvelope[]): Promise<PersistEnvelope[]> {
    if (sends.length === 0) return [];
    const { chatId } = this.options;
    this.lookups++;
    let found: (IdempotencyRecord | undefined)[];
    let members: PersistEnvelope[];
    try {
      [members, found] = await Promise.all([
        this.authorize(sends),
        Promise.all(
          sends.map((envelope) =>
            this.options.indexReader.lookup(chatId, envelope.message.request.clientMessageId),
          ),
        ),
      ]);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      for (const envelope of sends) envelope.reject(error);
      return [];
    } finally {
      this.lookups--;
    }
    const allowed = new Set(members);
    const fresh: PersistEnvelope[] = [];
    for (const [index, envelope] of sends.entries()) {
      if (!allowed.has(envelope)) continue;
      const record = found[index];
      if (record === undefined) {
        fresh.push(envelope);
        continue;
      }
      try {
        const stored = await this.verified(record);
        if (stored === undefined) fresh.push(envelope);
        else {
          this.recent.remember(stored);
          this.answerStored(envelope, stored);
        }
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        envelope.reject(error);
      }
    }
    this.prune();
    // Rule 5: memory is checked again when the batch is sealed.
    return fresh.filter((envelope) => {
      const known = this.known(envelope.message.request.clientMessageId);
      if (known !== undefined) this.answerStored(envelope, known);
      return known === undefined;
    });
  }

  /** The stored message an index record points at, when it carries the record's client_message_id. */
  private async verified(record: IdempotencyRecord): Promise<StoredMessage | undefined> {
    const stored = await this.options.messageStore.getMessage(this.options.chatId, record.sequence);
    return stored?.clientMessageId === record.clientMessageId ? stored : undefined;
  }

  /**
   * Steps 3-6 as the write-cycle machine directs: the new sends as blocks at the tail, each one conditional
   * put. A put that is taken, or whose outcome is unknown, is followed by a reload of every block above the
   * tail; the sends found there (another owner's block, or this put that landed although the call failed)
   * are answered as stored (rule 6) and the others committed at the new tail.
   */
  private async runCycle(): Promise<void> {
    for (;;) {
      const state = this.cycle.state;
      if (state === "committing") await this.commitBlock();
      else if (state === "reloading") await this.reloadBatch();
      else return;
    }
  }

  private async commitBlock(): Promise<void> {
    if (this.memory.isFull(this.queue.length)) {
      this.cycle.send({ type: "FULL" });
      return;
    }
    if (this.stale) {
      this.cycle.send({ type: "STALE" });
      return;
    }
    const block = this.takeBlock(this.queue);
    const messages = this.placed(block);
    await this.keepMarker();
    let outcome: BlockPutOutcome;
    try {
      outcome = await this.options.messageStore.appendBlock(this.options.chatId, messages);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      this.lastError = error;
      this.stale = true;
      this.cycle.send({ type: "PUT_FAILED" });
      return;
    }
    if (outcome === "taken") {
      this.options.metrics?.sequenceConflict();
      this.stale = true;
      this.cycle.send({ type: "PUT_TAKEN" });
      return;
    }
    this.options.failpoints.hit("after-message-write");
    this.cycle.send({ type: "PUT_WRITTEN" });
    this.acknowledge(block, messages);
    this.cycle.send({ type: "ACKED" });
    this.options.failpoints.hit("after-ack-before-publication");
    this.scheduleIndex();
    this.cycle.send({ type: "INDEX_QUEUED" });
    this.publish(block, messages);
    this.queue = this.queue.slice(block.length);
    this.cycle.send({ type: "PUBLISH_QUEUED", left: this.queue.length });
  }

  private async reloadBatch(): Promise<void> {
    let read: Map<string, StoredMessage>;
    try {
      read = await this.reload();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      this.lastError = error;
      this.cycle.send({ type: "RELOAD_FAILED" });
      return;
    }
    // Rule 6: matched against every block the reload read, not only what memory keeps: the watermark this
    // sequencer learned may already lie above some of them, and this batch's lookups predate their records.
    this.queue = this.queue.filter((draft) => {
      const { clientMessageId } = draft.envelope.message.request;
      const stored = read.get(clientMessageId) ?? this.memory.get(clientMessageId);
      if (stored !== undefined) this.answerStored(draft.envelope, stored);
      return stored === undefined;
    });
    this.cycle.send({ type: "RELOADED", left: this.queue.length });
  }

  /** The machine's refusals: what is left of the batch fails, and the client retries. */
  private refuseQueue(error: AppError): void {
    for (const draft of this.queue.splice(0)) draft.envelope.reject(error);
  }

  /** The front of the queue that fits one block (at least one send). */
  private takeBlock(queue: readonly Draft[]): Draft[] {
    const block: Draft[] = [];
    let bytes = 0;
    for (const draft of queue) {
      const size = bytesOf(draft.envelope.message.request);
      if (
        block.length > 0 &&
        (block.length >= this.options.blockMaxMessages || bytes + size > this.options.blockMaxBytes)
      )
        break;
      block.push(draft);
      bytes += size;
    }
    return block;
  }

  /** The block's messages at `tail + 1, …`, created now. */
  private placed(block: readonly Draft[]): StoredMessage[] {
    const now = this.options.clock.now();
    return block.map(({ envelope, messageId }, index) => {
      const { request } = envelope.message;
      return {
        chatId: this.options.chatId,
        sequence: toSequence(this.tail + 1 + index),
        messageId,
        senderId: request.senderId,
        clientMessageId: request.clientMessageId,
        content: request.content,
        contentType: request.contentType,
        createdAt: now,
      };
    });
  }

  /** Step 4 for a stored block: memory and tail, then every message acknowledged (D1). */
  private acknowledge(block: readonly Draft[], messages: readonly StoredMessage[]): void {
    this.tail = (messages.at(-1) as StoredMessage).sequence;
    this.memory.hold(messages);
    for (const [index, draft] of block.entries()) {
      const message = messages[index] as StoredMessage;
      this.recent.remember(message);
      this.options.metrics?.messageWritten();
      draft.envelope.resolve({
        messageId: message.messageId,
        sequence: message.sequence,
        createdAt: message.createdAt,
        deduplicated: false,
      });
    }
  }

  /** Step 6: the block's messages into the ordered outbox, with what their events carry. */
  private publish(block: readonly Draft[], messages: readonly StoredMessage[]): void {
    for (const [index, draft] of block.entries()) {
      const { traceId, traceparent, senderConnectionId } = draft.envelope.message.request;
      this.outbox.append(messages[index] as StoredMessage, {
        ...(traceId === undefined ? {} : { traceId }),
        ...(traceparent === undefined ? {} : { traceparent }),
        ...(senderConnectionId === undefined ? {} : { senderConnectionId }),
      });
    }
  }

  /**
   * Rule 2: the tail moves only through here, which reads every block above it into memory (and queues their
   * index records: whoever wrote them, they must be indexed before the watermark passes them). Returns every
   * message read, by client_message_id.
   */
  private async reload(): Promise<Map<string, StoredMessage>> {
    const blocks = await this.options.messageStore.readBlocksAfter(this.options.chatId, this.tail);
    const legacy = blocks.find((block) => block.legacy === true);
    if (legacy !== undefined) {
      this.options.logger.error(
        { chat_id: this.options.chatId, sequence: legacy.firstSequence },
        "a message in the per-message format lies above indexed_through: a node of the previous version is " +
          "writing this table; stop it (and run `npm run tables -- --migrate`) before this version writes",
      );
      throw new AppError(
        "SERVICE_UNAVAILABLE",
        "the chat is being written by a node of the previous version",
        {
          details: { chat_id: this.options.chatId },
        },
      );
    }
    const held = blocks.filter((block) => this.memory.hold(block.messages));
    const last = blocks.at(-1);
    if (last !== undefined && last.lastSequence > this.tail) {
      this.tail = last.lastSequence;
      this.outbox.raiseTail(this.tail);
    }
    this.stale = false;
    if (held.length > 0) this.scheduleIndex();
    const read = new Map<string, StoredMessage>();
    for (const block of blocks)
      for (const message of block.messages) read.set(message.clientMessageId, message);
    return read;
  }

  /**
   * Step 5: index records are written behind the ack, batched: once `indexBatchMessages` messages wait, or
   * `indexDelayMs` after the first of them, and always when draining. Until then the blocks stay in memory
   * (which covers everything above the watermark), so a quiet chat pays for one index write and one
   * compare-and-set per interval instead of per message.
   */
  private scheduleIndex(): void {
    if (this.disposed) return;
    if (this.memory.unsubmitted >= this.options.indexBatchMessages) {
      void this.flushIndex();
      return;
    }
    if (this.memory.unsubmitted > 0) this.indexLater(this.options.indexDelayMs);
  }

  private indexLater(delayMs: number): void {
    if (this.disposed || this.indexTimer !== undefined) return;
    this.indexTimer = this.options.clock.setTimeout(() => {
      this.indexTimer = undefined;
      void this.flushIndex();
    }, delayMs);
  }

  /** Writes the records of every block not yet submitted, then moves the watermark; never throws. */
  private async flushIndex(): Promise<void> {
    if (this.indexTimer !== undefined) {
      this.options.clock.clearTimeout(this.indexTimer);
      this.indexTimer = undefined;
    }
    const blocks = this.memory.takeUnsubmitted();
    if (blocks.length > 0) {
      const records = blocks.flatMap((messages) =>
        messages.map(
          (message): IdempotencyRecord => ({
            chatId: message.chatId,
            clientMessageId: message.clientMessageId,
            messageId: message.messageId,
            sequence: message.sequence,
            createdAt: message.createdAt,
            // Rule 8: the record lives as long as its message's dedup window; the adapter skips expired ones.
            expiresAt: message.createdAt + this.options.idempotencyTtlMs,
          }),
        ),
      );
      try {
        await this.options.indexWriter.write(records);
        for (const messages of blocks) this.memory.markIndexed((messages[0] as StoredMessage).sequence);
      } catch (error) {
        for (const messages of blocks) this.memory.resubmit((messages[0] as StoredMessage).sequence);
        this.options.logger.warn(
          { err: error, chat_id: this.options.chatId },
          "index write failed; retrying",
        );
        this.indexLater(this.options.publishRetryMs);
        return;
      }
    }
    this.indexing = this.indexing.then(() => this.moveWatermark());
    await this.indexing;
  }

  /**
   * Rule 3: `indexed_through` moves by compare-and-set from the stored value to the end of the indexed blocks
   * that follow it. When another owner moved it meanwhile, its value is the new start (every block above it
   * that this sequencer indexed may still be passed).
   */
  private async moveWatermark(): Promise<void> {
    try {
      for (let round = 0; round < MAX_COMMIT_ROUNDS && !this.disposed; round++) {
        const from = this.memory.indexedThrough;
        const to = this.memory.indexableThrough();
        if (to <= from) break;
        this.options.failpoints.hit("after-index-write");
        const stored = await this.options.messageStore.compareAndSetIndexedThrough(
          this.options.chatId,
          from,
          to,
        );
        if (stored.indexedThrough < from) {
          this.options.logger.warn(
            { chat_id: this.options.chatId, stored: stored.indexedThrough, known: from },
            "indexed_through is stored below what this sequencer learned; left alone",
          );
          break;
        }
        this.memory.advance(stored.indexedThrough);
      }
      this.prune();
    } catch (error) {
      if (error instanceof SimulatedCrash) {
        // The process "died" here: nothing of this instance runs again.
        this.dispose();
        return;
      }
      this.options.logger.warn({ err: error, chat_id: this.options.chatId }, "moving indexed_through failed");
      this.indexLater(this.options.publishRetryMs);
    }
  }

  /** Rule 5: pruned only at or below the stored watermark, while no lookup of this sequencer is outstanding. */
  private prune(): void {
    if (this.lookups === 0) this.memory.prune();
  }

  /** Strongly consistent membership reads, one per distinct sender: a removal that returned is seen. */
  private async authorize(sends: readonly PersistEnvelope[]): Promise<PersistEnvelope[]> {
    const senders = [...new Set(sends.map((envelope) => envelope.message.request.senderId))];
    const allowed = new Set<UserId>();
    await Promise.all(
      senders.map(async (sender) => {
        if (await this.options.memberships.isMember(this.options.chatId, sender)) allowed.add(sender);
      }),
    );
    const refused = sends.filter((envelope) => !allowed.has(envelope.message.request.senderId));
    if (refused.length > 0) {
      const error = await this.notMemberError();
      for (const envelope of refused) envelope.reject(error);
    }
    return sends.filter((envelope) => allowed.has(envelope.message.request.senderId));
  }

  /** NOT_FOUND when the chat does not exist (or is not active yet), else NOT_A_MEMBER. */
  private async notMemberError(): Promise<AppError> {
    const chat = await this.options.chatStore.getChat(this.options.chatId, { consistent: true });
    if (chat === undefined || chat.status !== "active") {
      return new AppError("NOT_FOUND", "chat not found", { details: { chat_id: this.options.chatId } });
    }
    return new AppError("NOT_A_MEMBER", "not a member of this chat", {
      details: { chat_id: this.options.chatId },
    });
  }

  private async requireMember(userId: UserId): Promise<void> {
    if (!(await this.options.memberships.isMember(this.options.chatId, userId)))
      throw await this.notMemberError();
  }

  /** Members only; ascending, bounded by the tail this sequencer knows to be written (D3). */
  private async sync(request: SyncRequest): Promise<SyncResult> {
    await this.requireMember(request.userId);
    const limit = Math.min(request.limit || SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT);
    // Stored sequences have no gaps (see the class comment), so everything stored above `afterSequence` is
    // resolved and may be shown; no bound by the tail is needed, and one Query serves the page.
    const messages = await this.options.messageStore.readMessages(this.options.chatId, {
      after: request.afterSequence,
      limit: limit + 1,
      order: "asc",
    });
    const seen = messages.at(-1)?.sequence ?? 0;
    if (seen > this.tail) {
      // Another owner wrote these (a failover or handoff). Rule 2: a read does not move the write tail by
      // itself; the blocks are read into memory (and published) before anything else is written.
      this.stale = true;
      await this.reload().catch((error: unknown) => {
        if (!(error instanceof AppError)) throw error;
      });
    }
    const page = messages.slice(0, limit);
    const last = page.at(-1)?.sequence ?? request.afterSequence;
    return {
      messages: page,
      hasMore: messages.length > limit,
      nextSequence: last + 1,
      lastSequence: this.tail,
    };
  }

  /**
   * D8: cumulative, monotonic. Rule 9: an ack above the tail this owner knows makes it reload first (another
   * owner may have written it); one still above the stored tail is ignored.
   */
  private async ack(request: AckRequest): Promise<AckResult> {
    await this.requireMember(request.userId);
    const writes = this.options.deliveryWrites;
    if (request.sequence > this.tail) await this.reload();
    if (request.sequence <= this.tail) {
      writes.record(request.userId, this.options.chatId, toSequence(request.sequence));
    } else {
      this.options.logger.debug(
        { chat_id: this.options.chatId, sequence: request.sequence, tail: this.tail },
        "ack above the tail ignored",
      );
    }
    // Rule 9: only what is stored (the ack itself is written behind).
    let stored = writes.stored(request.userId, this.options.chatId);
    if (stored === undefined) {
      const state = await this.options.messageStore.getDeliveryState(request.userId, this.options.chatId);
      if (state !== undefined)
        writes.learnStored(request.userId, this.options.chatId, state.lastAckedSequence);
      stored = writes.stored(request.userId, this.options.chatId);
    }
    return { lastAckedSequence: stored ?? 0 };
  }
}
