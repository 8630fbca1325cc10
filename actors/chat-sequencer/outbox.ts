import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import { messagePersistedRecord } from "../../runtime/events.js";
import type { ChatId, IdFactory } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { EventLog, EventRecord } from "../../runtime/ports/event-log.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import { TOPICS } from "../../runtime/topics.js";
import { contextOf, TRACEPARENT, traceIdOf, traceparentOfSpan } from "../../runtime/tracing/propagation.js";
import { failSpan } from "../../runtime/tracing/span-outcome.js";
import { type Failpoints, SimulatedCrash } from "./failpoints.js";

/**
 * The ordered outbox of one chat (D4). Every persisted message is published to `messages.persisted`
 * strictly in sequence order by this one loop; `published_through` in chat_counters records progress, so a
 * new owner republishes what lies between it and the tail. Publication never blocks sending (D1): when the
 * log is down the loop retries on the clock while sends keep being acknowledged. Duplicates after a crash
 * are allowed (consumers dedupe by chat and sequence); loss is not.
 */
export interface OutboxOptions {
  readonly chatId: ChatId;
  readonly store: MessageStore;
  readonly eventLog: EventLog;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly logger: Logger;
  readonly producerId: string;
  /** One `durability.kafka_produce` span per published event, continuing the persist of its message. */
  readonly tracer: Tracer;
  readonly failpoints: Failpoints;
  /** Pause before retrying a failed publication. */
  readonly retryMs: number;
  /**
   * chat_counters is written while publishing when this much time or `countersFlushMessages` messages have
   * passed since the last write, and always when draining. Progress not yet written only means a new owner
   * republishes a little more (duplicates are allowed, D4); each write costs a request, which would otherwise
   * be a second write per message in a quiet chat.
   */
  readonly countersFlushMs: number;
  readonly countersFlushMessages: number;
  /** Records per publish call. */
  readonly maxBatch: number;
}

/** Per-message facts an event carries that the stored message does not. */
export interface PublishHints {
  readonly traceId?: string;
  /** The persist span's context: the event's `traceparent` header continues it, however late it is published. */
  readonly traceparent?: string;
  readonly senderConnectionId?: string;
}

/** Record headers of every MessagePersisted event (spec §3: `traceparent` and `message_id` travel in headers). */
const MESSAGE_ID_HEADER = "message_id";

/** The longest prefix of `messages` (ascending) that runs `from, from + 1, …`, at most `max` long. */
function contiguousFrom(from: number, messages: readonly StoredMessage[], max: number): StoredMessage[] {
  const run: StoredMessage[] = [];
  for (const message of messages) {
    if (run.length >= max || message.sequence !== from + run.length) break;
    run.push(message);
  }
  return run;
}

export class Outbox {
  private publishedThrough = 0;
  private tail = 0;
  private flushedThrough = 0;
  private lastFlushAt = 0;
  /** Written messages above `publishedThrough` that are still in memory, ascending. */
  private pending: StoredMessage[] = [];
  /** What the event of a sequence carries beyond the message, while it is in memory (lost on a restart). */
  private readonly hints = new Map<number, PublishHints>();
  private running: Promise<void> | undefined;
  private retryTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {}

  /** Where publication stands after activation; republishes (published_through, tail] at once (D4). */
  start(publishedThrough: number, tail: number): void {
    this.lastFlushAt = this.options.clock.now();
    this.publishedThrough = Math.min(publishedThrough, tail);
    this.flushedThrough = this.publishedThrough;
    this.tail = tail;
    this.kick();
  }

  /** A message just written, directly above the known tail. */
  append(message: StoredMessage, hints: PublishHints = {}): void {
    if (message.sequence > this.tail) {
      this.pending.push(message);
      this.tail = message.sequence;
      if (
        hints.traceId !== undefined ||
        hints.traceparent !== undefined ||
        hints.senderConnectionId !== undefined
      ) {
        this.hints.set(message.sequence, hints);
      }
    }
    this.kick();
  }

  /** Tail learned from the store (another owner wrote above ours): those are published too. */
  raiseTail(tail: number): void {
    if (tail > this.tail) {
      this.tail = tail;
      this.kick();
    }
  }

  /**
   * D4: a retry of a stored message whose event is not published yet triggers publication: a pending retry
   * pause is cut short.
   */
  nudge(): void {
    if (this.stopped || this.publishedThrough >= this.tail || this.retryTimer === undefined) return;
    this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.kick();
  }

  get position(): { readonly publishedThrough: number; readonly tail: number } {
    return { publishedThrough: this.publishedThrough, tail: this.tail };
  }

  /**
   * Publishes what it can once more and records progress; bounded by one attempt. Resolves true when
   * everything written is published, false when the log refused (a retry is then scheduled as usual).
   */
  async drain(): Promise<boolean> {
    if (this.stopped) return false;
    await this.running;
    if (this.retryTimer !== undefined) {
      this.options.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (this.publishedThrough < this.tail) await this.publishAll();
    if (this.stopped || this.publishedThrough < this.tail) return false;
    await this.flushCounters();
    return true;
  }

  /** Stops all background work (the instance is being discarded). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) this.options.clock.clearTimeout(this.retryTimer);
  }

  private kick(): void {
    if (this.stopped || this.running !== undefined || this.retryTimer !== undefined) return;
    if (this.publishedThrough >= this.tail) return;
    this.running = this.publishAll().finally(() => {
      this.running = undefined;
    });
  }

  private async publishAll(): Promise<void> {
    try {
      while (!this.stopped && this.publishedThrough < this.tail) {
        const batch = await this.nextBatch();
        await this.publish(batch);
        this.options.failpoints.hit("during-publication");
        const last = batch.at(-1)?.sequence ?? this.publishedThrough;
        this.publishedThrough = last;
        this.pending = this.pending.filter((message) => message.sequence > last);
        for (const message of batch) this.hints.delete(message.sequence);
        if (this.options.clock.now() - this.lastFlushAt >= this.options.countersFlushMs)
          await this.flushCounters();
      }
    } catch (error) {
      if (error instanceof SimulatedCrash) {
        this.stop();
        return;
      }
      this.options.logger.warn(
        {
          err: error,
          chat_id: this.options.chatId,
          published_through: this.publishedThrough,
          tail: this.tail,
        },
        "publication failed; retrying",
      );
      this.retryTimer = this.options.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.options.retryMs);
    }
  }

  /** One publish call, each event in a span of its own that continues its message's persist. */
  private async publish(batch: readonly StoredMessage[]): Promise<void> {
    const spans: Span[] = [];
    const records = batch.map((message): EventRecord => {
      const { traceparent, ...hints } = this.hints.get(message.sequence) ?? {};
      const span = this.options.tracer.startSpan(
        "durability.kafka_produce",
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            topic: TOPICS.messagesPersisted,
            chat_id: message.chatId,
            message_id: message.messageId,
            sequence: message.sequence,
          },
        },
        contextOf(traceparent),
      );
      spans.push(span);
      const carried = traceparentOfSpan(span);
      const traceId = hints.traceId ?? traceIdOf(carried);
      const record = messagePersistedRecord(message, {
        eventId: this.options.ids.event(),
        producerId: this.options.producerId,
        eventTime: this.options.clock.now(),
        ...hints,
        ...(traceId === undefined ? {} : { traceId }),
      });
      return {
        ...record,
        headers: {
          [MESSAGE_ID_HEADER]: message.messageId,
          ...(carried === undefined ? {} : { [TRACEPARENT]: carried }),
        },
      };
    });
    try {
      const published = await this.options.eventLog.publish(TOPICS.messagesPersisted, records);
      for (const [index, span] of spans.entries()) {
        const partition = published[index]?.partition;
        if (partition !== undefined) span.setAttribute("partition", partition);
      }
    } catch (error) {
      for (const span of spans) failSpan(span, error);
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
  }

  /**
   * The next run above `publishedThrough`, contiguous from `publishedThrough + 1`: from memory when it holds
   * that sequence, else from the store up to the first sequence memory holds. Memory can have holes (a fence
   * conflict or a sync raises the tail without adding what another owner wrote in between), and publishing
   * across one would record the messages in it as published although nobody published them (D4).
   */
  private async nextBatch(): Promise<StoredMessage[]> {
    const from = this.publishedThrough + 1;
    const first = this.pending[0];
    if (first !== undefined && first.sequence === from)
      return contiguousFrom(from, this.pending, this.options.maxBatch);
    const upTo = Math.min(this.tail, first === undefined ? this.tail : first.sequence - 1);
    const stored = await this.options.store.readMessages(this.options.chatId, {
      after: this.publishedThrough,
      before: upTo + 1,
      limit: Math.min(this.options.maxBatch, upTo - this.publishedThrough),
      order: "asc",
    });
    const batch = contiguousFrom(from, stored, this.options.maxBatch);
    // Every sequence up to the tail is stored (the tail is only learned from stored messages, D3): a read that
    // misses one is a failure to retry, never a reason to skip it.
    if (batch.length === 0)
      throw new Error(`sequence ${from} of ${this.options.chatId} was not found below the tail ${this.tail}`);
    return batch;
  }

  private async flushCounters(): Promise<void> {
    if (this.publishedThrough <= this.flushedThrough && this.tail <= this.flushedThrough) return;
    const publishedThrough = this.publishedThrough;
    await this.options.store.advanceCounters(this.options.chatId, { highWater: this.tail, publishedThrough });
    this.flushedThrough = publishedThrough;
    this.lastFlushAt = this.options.clock.now();
  }
}
