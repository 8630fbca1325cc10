import type { Clock } from "../../clock.js";
import type { ChatId, Sequence, UserId } from "../../ids.js";
import type {
  BlockPutOutcome,
  ChatCounters,
  DeliveryState,
  IdempotencyRecord,
  IndexKey,
  MessageBlock,
  MessageStore,
  StoredMessage,
} from "../../ports/message-store.js";
import { type BlockQuery, BlockReadingStore } from "../block-reads.js";
import {
  checkBlock,
  checkCounterAdvance,
  checkIndexedThrough,
  checkSequence,
  isInForce,
} from "../store-arguments.js";

const key = (...parts: readonly string[]): string => parts.join("\u0000");
const byChatId = (a: { chatId: string }, b: { chatId: string }): number =>
  a.chatId < b.chatId ? -1 : a.chatId > b.chatId ? 1 : 0;

/**
 * The message store in memory, for unit tests of actors and machines and for the deterministic simulation of
 * the write path. It keeps the DynamoDB adapter's semantics exactly (the shared contract suite proves it):
 * a block put only conflicts with an equal key (as `attribute_not_exists` does, so a put at a wrong position
 * would overlap here exactly as on DynamoDB), nothing is ever lowered, D12 expiry by the injected clock, and
 * the reads are the same code as the DynamoDB adapter's over a range of block keys. Each method completes its
 * check-and-set before its first await, which is what makes every write here atomic, like a single-item
 * conditional write.
 */
export class MemoryMessageStore extends BlockReadingStore implements MessageStore {
  private readonly clock: Pick<Clock, "now">;
  /** Per chat, blocks by first sequence, kept sorted. */
  private readonly blocks = new Map<ChatId, MessageBlock[]>();
  private readonly index = new Map<string, IdempotencyRecord>();
  private readonly counters = new Map<ChatId, ChatCounters>();
  /** Per user, per chat. */
  private readonly delivery = new Map<UserId, Map<ChatId, DeliveryState>>();

  constructor(options: { readonly clock: Pick<Clock, "now"> }) {
    super();
    this.clock = options.clock;
  }

  async appendBlock(chatId: ChatId, messages: readonly StoredMessage[]): Promise<BlockPutOutcome> {
    checkBlock(chatId, messages);
    let chat = this.blocks.get(chatId);
    if (chat === undefined) {
      chat = [];
      this.blocks.set(chatId, chat);
    }
    const first = (messages[0] as StoredMessage).sequence;
    const at = chat.findIndex((block) => block.firstSequence >= first);
    if (at >= 0 && (chat[at] as MessageBlock).firstSequence === first) return "taken";
    const block: MessageBlock = Object.freeze({
      chatId,
      firstSequence: first,
      lastSequence: (messages.at(-1) as StoredMessage).sequence,
      messages: Object.freeze(messages.map((message) => Object.freeze({ ...message }))),
    });
    if (at < 0) chat.push(block);
    else chat.splice(at, 0, block);
    return "written";
  }

  async getIndexRecords(keys: readonly IndexKey[]): Promise<IdempotencyRecord[]> {
    const now = this.clock.now();
    const found = new Map<string, IdempotencyRecord>();
    for (const { chatId, clientMessageId } of keys) {
      const recordKey = key(chatId, clientMessageId);
      const stored = this.index.get(recordKey);
      if (stored !== undefined && isInForce(stored, now)) found.set(recordKey, stored);
    }
    return [...found.values()];
  }

  async putIndexRecords(records: readonly IdempotencyRecord[]): Promise<void> {
    const now = this.clock.now();
    // A key given twice in one call keeps its record of the highest sequence, as the DynamoDB adapter does.
    const unique = new Map<string, IdempotencyRecord>();
    for (const record of records) {
      if (!isInForce(record, now)) continue;
      const recordKey = key(record.chatId, record.clientMessageId);
      const known = unique.get(recordKey);
      if (known === undefined || known.sequence < record.sequence) unique.set(recordKey, record);
    }
    for (const [recordKey, record] of unique) this.index.set(recordKey, Object.freeze({ ...record }));
  }

  async getCounters(chatId: ChatId): Promise<ChatCounters | undefined> {
    return this.counters.get(chatId);
  }

  /** A missing item is created (0 for a field not given); an existing one changes only where a field rises. */
  async advanceCounters(
    chatId: ChatId,
    advance: { readonly highWater?: number; readonly publishedThrough?: number },
  ): Promise<ChatCounters> {
    checkCounterAdvance(advance);
    const stored = this.counters.get(chatId);
    const highWater = Math.max(stored?.highWater ?? 0, advance.highWater ?? 0);
    const publishedThrough = Math.max(stored?.publishedThrough ?? 0, advance.publishedThrough ?? 0);
    if (
      stored !== undefined &&
      highWater === stored.highWater &&
      publishedThrough === stored.publishedThrough
    ) {
      return stored;
    }
    const counters = Object.freeze({
      chatId,
      highWater,
      publishedThrough,
      indexedThrough: stored?.indexedThrough ?? 0,
      updatedAt: this.clock.now(),
    });
    this.counters.set(chatId, counters);
    return counters;
  }

  async compareAndSetIndexedThrough(chatId: ChatId, from: number, to: number): Promise<ChatCounters> {
    checkIndexedThrough(from, to);
    const stored = this.counters.get(chatId);
    if ((stored?.indexedThrough ?? 0) !== from) {
      return stored ?? { chatId, highWater: 0, publishedThrough: 0, indexedThrough: 0, updatedAt: 0 };
    }
    const counters = Object.freeze({
      chatId,
      highWater: stored?.highWater ?? 0,
      publishedThrough: stored?.publishedThrough ?? 0,
      indexedThrough: to,
      updatedAt: this.clock.now(),
    });
    this.counters.set(chatId, counters);
    return counters;
  }

  /** D8: rises or reports false; never lowers. */
  async advanceDeliveryState(userId: UserId, chatId: ChatId, sequence: Sequence): Promise<boolean> {
    checkSequence(sequence);
    let states = this.delivery.get(userId);
    if (states === undefined) {
      states = new Map();
      this.delivery.set(userId, states);
    }
    const stored = states.get(chatId);
    if (stored !== undefined && stored.lastAckedSequence >= sequence) return false;
    states.set(
      chatId,
      Object.freeze({ userId, chatId, lastAckedSequence: sequence, updatedAt: this.clock.now() }),
    );
    return true;
  }

  async getDeliveryState(userId: UserId, chatId: ChatId): Promise<DeliveryState | undefined> {
    return this.delivery.get(userId)?.get(chatId);
  }

  async listDeliveryStates(userId: UserId): Promise<DeliveryState[]> {
    return [...(this.delivery.get(userId)?.values() ?? [])].sort(byChatId);
  }

  /** The primitive of the shared reads: blocks whose first sequence lies in the range, in key order. */
  protected async queryBlocks(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]> {
    const inRange = (this.blocks.get(chatId) ?? []).filter(
      (block) =>
        (query.lowest === undefined || block.firstSequence >= query.lowest) &&
        (query.highest === undefined || block.firstSequence <= query.highest),
    );
    if (query.order === "desc") inRange.reverse();
    return inRange.slice(0, query.limit);
  }
}
