import { AppError } from "../../runtime/errors.js";
import type { ChatId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import type { WriteMemory } from "./write-memory.js";

/** What a reload tells the rest of the sequencer. */
export interface ChainListener {
  /** The tail rose: the outbox publishes through it. */
  tailRaised(tail: number): void;
  /** Blocks entered memory: their index records are due (whoever wrote them, rule 3). */
  blocksHeld(): void;
}

/**
 * The chain of blocks as this owner knows it (D16 rules 1 and 2): the tail a block may be put after, and
 * whether a read showed something above it. The tail moves only by a stored put of this owner or by a reload,
 * which reads every block above it into memory, so memory always covers (indexed_through, tail].
 */
export class WriteChain {
  private tailSequence = 0;
  private staleFlag = false;

  constructor(
    private readonly chatId: ChatId,
    private readonly store: Pick<MessageStore, "readBlocksAfter">,
    private readonly memory: WriteMemory,
    private readonly logger: Logger,
    private readonly listener: ChainListener,
  ) {}

  /** Rule 1: the only position a block may be put after. */
  get tail(): number {
    return this.tailSequence;
  }

  /** A read showed blocks above the tail (or a put's outcome is unknown): reload before the next commit. */
  get stale(): boolean {
    return this.staleFlag;
  }

  markStale(): void {
    this.staleFlag = true;
  }

  /** Activation: memory starts at the stored watermark, and so does the chain until the reload reads on. */
  startAt(indexedThrough: number): void {
    this.tailSequence = indexedThrough;
  }

  /** This owner's put of a block ending at `lastSequence` was stored. */
  extendTo(lastSequence: number): void {
    this.tailSequence = lastSequence;
  }

  /**
   * Rule 2: reads every block above the tail into memory (and queues their index records: whoever wrote them,
   * they must be indexed before the watermark passes them). Returns every message read, by client_message_id.
   */
  async reload(): Promise<Map<string, StoredMessage>> {
    const blocks = await this.store.readBlocksAfter(this.chatId, this.tailSequence);
    const legacy = blocks.find((block) => block.legacy === true);
    if (legacy !== undefined) throw this.refuseLegacy(legacy.firstSequence);
    const held = blocks.filter((block) => this.memory.hold(block.messages));
    const last = blocks.at(-1);
    if (last !== undefined && last.lastSequence > this.tailSequence) {
      this.tailSequence = last.lastSequence;
      this.listener.tailRaised(this.tailSequence);
    }
    this.staleFlag = false;
    if (held.length > 0) this.listener.blocksHeld();
    const read = new Map<string, StoredMessage>();
    for (const block of blocks)
      for (const message of block.messages) read.set(message.clientMessageId, message);
    return read;
  }

  /** Rule 10: a node of this version never writes into a chain an old-version node is still extending. */
  private refuseLegacy(sequence: number): AppError {
    this.logger.error(
      { chat_id: this.chatId, sequence },
      "a message in the per-message format lies above indexed_through: a node of the previous version is " +
        "writing this table; stop it (and run `npm run tables -- --migrate`) before this version writes",
    );
    return new AppError(
      "SERVICE_UNAVAILABLE",
      "the chat is being written by a node of the previous version",
      {
        details: { chat_id: this.chatId },
      },
    );
  }
}
