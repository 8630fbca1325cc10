import type { Clock, TimerHandle } from "../../runtime/clock.js";
import type { ChatId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { IdempotencyRecord, MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import { type Failpoints, SimulatedCrash } from "./failpoints.js";
import type { IndexWriter } from "./index-writer.js";
import type { WriteMemory } from "./write-memory.js";

export interface IndexWatermarkOptions {
  readonly chatId: ChatId;
  readonly memory: WriteMemory;
  readonly indexWriter: IndexWriter;
  readonly store: Pick<MessageStore, "compareAndSetIndexedThrough">;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly failpoints: Failpoints;
  /** Rule 8: a record lives as long as its message's dedup window. */
  readonly idempotencyTtlMs: number;
  readonly indexBatchMessages: number;
  readonly indexDelayMs: number;
  /** Pause before retrying a failed index write or watermark move. */
  readonly retryMs: number;
  /** Compare-and-set rounds per move before waiting for the next flush. */
  readonly maxRounds: number;
  /** A simulated crash hit the move: the whole sequencer stops as the process would. */
  readonly onCrash: () => void;
}

/**
 * Step 5 of the write cycle (D16): index records are written behind the ack, batched: once
 * `indexBatchMessages` messages wait, or `indexDelayMs` after the first of them, and always when draining.
 * Until then the blocks stay in memory (which covers everything above the watermark), so a quiet chat pays
 * for one index write and one compare-and-set per interval instead of per message. Then `indexed_through`
 * moves by compare-and-set (rule 3), and memory below it is pruned.
 */
export class IndexWatermark {
  /** The chain of watermark moves, one at a time. */
  private indexing: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private disposed = false;

  constructor(private readonly options: IndexWatermarkOptions) {}

  /** Blocks entered memory: write their records now if enough wait, else after the delay. */
  schedule(): void {
    if (this.disposed) return;
    const { memory } = this.options;
    if (memory.unsubmitted >= this.options.indexBatchMessages) {
      void this.flush();
      return;
    }
    if (memory.unsubmitted > 0) this.later(this.options.indexDelayMs);
  }

  /** Writes the records of every block not yet submitted, then moves the watermark; never throws. */
  async flush(): Promise<void> {
    this.cancelTimer();
    const { memory } = this.options;
    const blocks = memory.takeUnsubmitted();
    if (blocks.length > 0) {
      try {
        await this.options.indexWriter.write(blocks.flatMap((messages) => this.recordsOf(messages)));
        for (const messages of blocks) memory.markIndexed((messages[0] as StoredMessage).sequence);
      } catch (error) {
        for (const messages of blocks) memory.resubmit((messages[0] as StoredMessage).sequence);
        this.options.logger.warn(
          { err: error, chat_id: this.options.chatId },
          "index write failed; retrying",
        );
        this.later(this.options.retryMs);
        return;
      }
    }
    this.indexing = this.indexing.then(() => this.moveWatermark());
    await this.indexing;
  }

  dispose(): void {
    this.disposed = true;
    this.cancelTimer();
  }

  private recordsOf(messages: readonly StoredMessage[]): IdempotencyRecord[] {
    return messages.map((message) => ({
      chatId: message.chatId,
      clientMessageId: message.clientMessageId,
      messageId: message.messageId,
      sequence: message.sequence,
      createdAt: message.createdAt,
      // Rule 8: the record lives as long as its message's dedup window; the adapter skips expired ones.
      expiresAt: message.createdAt + this.options.idempotencyTtlMs,
    }));
  }

  private later(delayMs: number): void {
    if (this.disposed || this.timer !== undefined) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Rule 3: `indexed_through` moves by compare-and-set from the stored value to the end of the indexed blocks
   * that follow it. When another owner moved it meanwhile, its value is the new start (every block above it
   * that this sequencer indexed may still be passed).
   */
  private async moveWatermark(): Promise<void> {
    const { memory, chatId } = this.options;
    try {
      for (let round = 0; round < this.options.maxRounds && !this.disposed; round++) {
        const from = memory.indexedThrough;
        const to = memory.indexableThrough();
        if (to <= from) break;
        this.options.failpoints.hit("after-index-write");
        const stored = await this.options.store.compareAndSetIndexedThrough(chatId, from, to);
        if (stored.indexedThrough < from) {
          this.options.logger.warn(
            { chat_id: chatId, stored: stored.indexedThrough, known: from },
            "indexed_through is stored below what this sequencer learned; left alone",
          );
          break;
        }
        memory.advance(stored.indexedThrough);
      }
      memory.prune();
    } catch (error) {
      if (error instanceof SimulatedCrash) {
        // The process "died" here: nothing of this instance runs again.
        this.options.onCrash();
        return;
      }
      this.options.logger.warn({ err: error, chat_id: chatId }, "moving indexed_through failed");
      this.later(this.options.retryMs);
    }
  }
}
