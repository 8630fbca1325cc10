import type { ChatId, Sequence } from "../ids.js";
import { MAX_SEQUENCE } from "../ids.js";
import type { MessageBlock, MessageRange, StoredMessage } from "../ports/message-store.js";
import { checkMessageRange } from "./store-arguments.js";

/**
 * D16's reads of messages stored in blocks, written once over one primitive (a range of block keys, in key
 * order) so that every adapter answers exactly alike: what the memory adapter proves, dynalite does.
 *
 * Rule 7: no read assumes a block size (the cap may differ between versions and owners). A read after `s`
 * must start with `s + 1`: when the first block found does not, the block with the greatest first sequence
 * `<= s + 1` is fetched (descending, limit 1), which holds `s + 1` if anything does. Messages are emitted in
 * strict order only, so even blocks that overlapped (which rule 1 forbids) could never show a sequence twice.
 */
export interface BlockQuery {
  /** Smallest first sequence (inclusive). */
  readonly lowest?: number;
  /** Greatest first sequence (inclusive). */
  readonly highest?: number;
  readonly order: "asc" | "desc";
  /** Blocks, at least 1. */
  readonly limit: number;
}

/** Blocks per request at most; a first request of a read asks for few, later ones as many as look needed. */
const MAX_PAGE_BLOCKS = 100;
const FIRST_PAGE_BLOCKS = 8;
/** Chats whose block density is remembered at most (the oldest is forgotten first). */
const DENSITY_MEMORY_CHATS = 10_000;

/**
 * How many blocks to ask for to get `wanted` more messages: judged by the blocks seen so far in this read,
 * else by the chat's density in its last read (`priorPerBlock`), else a few. A guess only sizes requests
 * (rule 7: nothing depends on it): a page of 500 from blocks of 50 is one Query of 10 blocks, not a Query of
 * 8 and another of 4.
 */
function pageSize(wanted: number, seenBlocks: number, seenMessages: number, priorPerBlock?: number): number {
  if (seenBlocks === 0) {
    if (priorPerBlock === undefined) return Math.min(wanted, FIRST_PAGE_BLOCKS);
    return Math.max(1, Math.min(MAX_PAGE_BLOCKS, Math.ceil(wanted / priorPerBlock)));
  }
  const perBlock = Math.max(1, seenMessages / seenBlocks);
  return Math.max(1, Math.min(MAX_PAGE_BLOCKS, Math.ceil(wanted / perBlock) + 1));
}

/**
 * The read half of a message store over blocks: adapters extend it and provide `queryBlocks`, one range of
 * block keys in key order.
 */
export abstract class BlockReadingStore {
  /** Messages per block in each chat's last read of several blocks, to size the next read's first request. */
  private readonly density = new Map<ChatId, number>();

  protected abstract queryBlocks(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]>;

  private remember(chatId: ChatId, seenBlocks: number, seenMessages: number): void {
    if (seenBlocks < 2) return;
    this.density.delete(chatId);
    this.density.set(chatId, Math.max(1, seenMessages / seenBlocks));
    if (this.density.size > DENSITY_MEMORY_CHATS) {
      const oldest = this.density.keys().next().value;
      if (oldest !== undefined) this.density.delete(oldest);
    }
  }

  private query(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]> {
    return this.queryBlocks(chatId, query);
  }

  async readTail(chatId: ChatId): Promise<number> {
    const [last] = await this.query(chatId, { order: "desc", limit: 1 });
    return last?.lastSequence ?? 0;
  }

  async getMessage(chatId: ChatId, sequence: Sequence): Promise<StoredMessage | undefined> {
    const [block] = await this.query(chatId, { highest: sequence, order: "desc", limit: 1 });
    return block?.messages.find((message) => message.sequence === sequence);
  }

  async readBlocksAfter(chatId: ChatId, after: number): Promise<MessageBlock[]> {
    const start = after + 1;
    if (start > MAX_SEQUENCE) return [];
    const [head] = await this.query(chatId, { highest: start, order: "desc", limit: 1 });
    const blocks = head !== undefined && head.lastSequence >= start ? [head] : [];
    // Without a block holding `start`, one may be put at `start` between the two queries: the next query
    // includes that key, or the scan would move the tail past a block it never read (rule 2).
    let lowest = blocks.length > 0 ? start + 1 : start;
    for (;;) {
      const page = await this.query(chatId, { lowest, order: "asc", limit: MAX_PAGE_BLOCKS });
      blocks.push(...page);
      const last = page.at(-1);
      if (page.length < MAX_PAGE_BLOCKS || last === undefined) return blocks;
      lowest = last.firstSequence + 1;
    }
  }

  async readMessages(chatId: ChatId, range: MessageRange): Promise<StoredMessage[]> {
    checkMessageRange(range);
    const { after, before } = range;
    if ((after !== undefined && after >= MAX_SEQUENCE) || (before !== undefined && before <= 1)) return [];
    if (after !== undefined && before !== undefined && after + 1 > before - 1) return [];
    return range.order === "asc"
      ? this.readAscending(chatId, after ?? 0, before, range.limit)
      : this.readDescending(chatId, after ?? 0, before, range.limit);
  }

  private async readAscending(
    chatId: ChatId,
    after: number,
    before: number | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    const highest = before === undefined ? undefined : before - 1;
    const take = (blocks: readonly MessageBlock[]): boolean => {
      for (const block of blocks) {
        for (const message of block.messages) {
          if (message.sequence <= (out.at(-1)?.sequence ?? after)) continue;
          if (before !== undefined && message.sequence >= before) return true;
          out.push(message);
          if (out.length === limit) return true;
        }
      }
      return false;
    };
    const start = after + 1;
    let lowest = start;
    let seenBlocks = 0;
    let seenMessages = 0;
    const prior = this.density.get(chatId);
    try {
      for (let first = true; ; first = false) {
        const size = pageSize(limit - out.length, seenBlocks, seenMessages, prior);
        const page = await this.query(chatId, {
          lowest,
          ...(highest === undefined ? {} : { highest }),
          order: "asc",
          limit: size,
        });
        if (first && start > 1 && page[0]?.firstSequence !== start) {
          // Rule 7: `start` may lie inside a block that begins below it.
          const [head] = await this.query(chatId, { highest: start, order: "desc", limit: 1 });
          if (head !== undefined && head.lastSequence >= start && take([head])) return out;
        }
        seenBlocks += page.length;
        for (const block of page) seenMessages += block.messages.length;
        if (take(page)) return out;
        const last = page.at(-1);
        if (page.length < size || last === undefined) return out;
        lowest = last.firstSequence + 1;
      }
    } finally {
      this.remember(chatId, seenBlocks, seenMessages);
    }
  }

  private async readDescending(
    chatId: ChatId,
    after: number,
    before: number | undefined,
    limit: number,
  ): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let highest = before === undefined ? undefined : before - 1;
    let seenBlocks = 0;
    let seenMessages = 0;
    const prior = this.density.get(chatId);
    try {
      for (;;) {
        const size = pageSize(limit - out.length, seenBlocks, seenMessages, prior);
        const page = await this.query(chatId, {
          ...(highest === undefined ? {} : { highest }),
          order: "desc",
          limit: size,
        });
        seenBlocks += page.length;
        for (const block of page) {
          seenMessages += block.messages.length;
          for (let index = block.messages.length - 1; index >= 0; index--) {
            const message = block.messages[index] as StoredMessage;
            if (before !== undefined && message.sequence >= before) continue;
            if (message.sequence <= after) return out;
            const previous = out.at(-1);
            if (previous !== undefined && message.sequence >= previous.sequence) continue;
            out.push(message);
            if (out.length === limit) return out;
          }
        }
        const last = page.at(-1);
        if (page.length < size || last === undefined || last.firstSequence <= 1) return out;
        highest = last.firstSequence - 1;
      }
    } finally {
      this.remember(chatId, seenBlocks, seenMessages);
    }
  }
}
