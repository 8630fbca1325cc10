import type { StoredMessage } from "../../runtime/ports/message-store.js";

/**
 * D16's memory of one sequencer: every client_message_id of the blocks above the chat's `indexed_through`
 * (rule 2: it covers (indexed_through, tail] completely), with each block's index status. A send whose
 * client_message_id is not here, nor in the index, is new. Entries leave only when the stored watermark
 * passes their block (rule 5: never evicted to make room; the sequencer refuses sends while it is full).
 */
interface HeldBlock {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly messages: readonly StoredMessage[];
  /** Its records are being written. */
  submitted: boolean;
  indexed: boolean;
}

export class WriteMemory {
  private readonly byClientMessageId = new Map<string, StoredMessage>();
  /** Ascending, contiguous, above `indexedThrough`. */
  private readonly blocks: HeldBlock[] = [];
  private watermark = 0;
  /** Index lookups of this sequencer outstanding (rule 5: nothing is pruned meanwhile). */
  private lookups = 0;

  constructor(private readonly capacity: number) {}

  /** The stored `indexed_through` as this sequencer last learned it. */
  get indexedThrough(): number {
    return this.watermark;
  }

  get size(): number {
    return this.byClientMessageId.size;
  }

  /** No room for `more` client_message_ids. */
  isFull(more = 1): boolean {
    return this.byClientMessageId.size + more > this.capacity;
  }

  get(clientMessageId: string): StoredMessage | undefined {
    return this.byClientMessageId.get(clientMessageId);
  }

  /** Starts over from a stored watermark (activation). */
  reset(indexedThrough: number): void {
    this.byClientMessageId.clear();
    this.blocks.length = 0;
    this.watermark = indexedThrough;
  }

  /**
   * Holds a stored block (written by this sequencer, or read back). Returns false when it was already held or
   * lies at or below the watermark (nothing to index).
   */
  hold(messages: readonly StoredMessage[]): boolean {
    const first = messages[0]?.sequence;
    const last = messages.at(-1)?.sequence;
    if (first === undefined || last === undefined || last <= this.watermark) return false;
    if (this.blocks.some((block) => block.firstSequence === first)) return false;
    const block: HeldBlock = {
      firstSequence: first,
      lastSequence: last,
      messages,
      submitted: false,
      indexed: false,
    };
    const at = this.blocks.findIndex((held) => held.firstSequence > first);
    if (at < 0) this.blocks.push(block);
    else this.blocks.splice(at, 0, block);
    for (const message of messages) this.byClientMessageId.set(message.clientMessageId, message);
    return true;
  }

  /** The block starting at `firstSequence` has its index records stored. */
  markIndexed(firstSequence: number): void {
    const block = this.blocks.find((held) => held.firstSequence === firstSequence);
    if (block !== undefined) block.indexed = true;
  }

  /**
   * The highest position w such that every block in (watermark, w] is held and indexed: where rule 3 allows the
   * stored watermark to move from this sequencer's knowledge. The watermark itself when nothing qualifies.
   */
  indexableThrough(): number {
    let through = this.watermark;
    for (const block of this.blocks) {
      if (block.lastSequence <= through) continue;
      if (block.firstSequence > through + 1 || !block.indexed) break;
      through = block.lastSequence;
    }
    return through;
  }

  /** Messages held whose records are neither stored nor being written. */
  get unsubmitted(): number {
    let count = 0;
    for (const block of this.blocks) if (!block.submitted) count += block.messages.length;
    return count;
  }

  /** The blocks whose records are neither stored nor being written, now marked as being written. */
  takeUnsubmitted(): (readonly StoredMessage[])[] {
    const taken = this.blocks.filter((block) => !block.submitted);
    for (const block of taken) block.submitted = true;
    return taken.map((block) => block.messages);
  }

  /** Writing the records of the block starting at `firstSequence` failed: it is taken again later. */
  resubmit(firstSequence: number): void {
    const block = this.blocks.find((held) => held.firstSequence === firstSequence);
    if (block !== undefined && !block.indexed) block.submitted = false;
  }

  /** The stored watermark is at least `indexedThrough` (learned from a compare-and-set or a read). */
  advance(indexedThrough: number): void {
    this.watermark = Math.max(this.watermark, indexedThrough);
  }

  /**
   * An index lookup starts: until it ends nothing is pruned, because a lookup that began before the watermark
   * moved may miss a record this memory is the only other witness of (rule 5).
   */
  lookupStarted(): void {
    this.lookups++;
  }

  lookupEnded(): void {
    this.lookups--;
  }

  /**
   * Forgets the blocks at or below the stored watermark and their client_message_ids. Rule 5: does nothing
   * while an index lookup of this sequencer is outstanding.
   */
  prune(): void {
    if (this.lookups > 0) return;
    while (this.blocks.length > 0 && (this.blocks[0] as HeldBlock).lastSequence <= this.watermark) {
      const block = this.blocks.shift() as HeldBlock;
      for (const message of block.messages) {
        if (this.byClientMessageId.get(message.clientMessageId)?.sequence === message.sequence)
          this.byClientMessageId.delete(message.clientMessageId);
      }
    }
  }
}
