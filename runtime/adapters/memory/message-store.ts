import type { Clock } from "../../clock.js";
import type { ChatId, Sequence, UserId } from "../../ids.js";
import type {
  AppendResult,
  ChatCounters,
  DeliveryState,
  IdempotencyRecord,
  MessageRange,
  MessageStore,
  StoredMessage,
} from "../../ports/message-store.js";
import {
  checkAppendBatch,
  checkCounterAdvance,
  checkMessageRange,
  checkSequence,
  isInForce,
  isSameIdempotencyRecord,
} from "../store-arguments.js";

const key = (...parts: readonly string[]): string => parts.join("\u0000");
const byChatId = (a: { chatId: string }, b: { chatId: string }): number =>
  a.chatId < b.chatId ? -1 : a.chatId > b.chatId ? 1 : 0;

/**
 * The message store in memory, for unit tests of actors and machines. It keeps the DynamoDB adapter's
 * semantics exactly (the shared contract suite proves it): first writer wins, nothing is ever lowered, D12
 * expiry by the injected clock. Each method completes its check-and-set before its first await, which is
 * what makes every write here atomic, like a single-item conditional write.
 */
export class MemoryMessageStore implements MessageStore {
  private readonly clock: Pick<Clock, "now">;
  private readonly messages = new Map<ChatId, Map<number, StoredMessage>>();
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly counters = new Map<ChatId, ChatCounters>();
  /** Per user, per chat. */
  private readonly delivery = new Map<UserId, Map<ChatId, DeliveryState>>();

  constructor(options: { readonly clock: Pick<Clock, "now"> }) {
    this.clock = options.clock;
  }

  async appendMessages(chatId: ChatId, messages: readonly StoredMessage[]): Promise<AppendResult> {
    checkAppendBatch(chatId, messages);
    let chat = this.messages.get(chatId);
    if (chat === undefined) {
      chat = new Map();
      this.messages.set(chatId, chat);
    }
    const landedBefore: StoredMessage[] = [];
    const result = (written: number, conflictAt?: Sequence): AppendResult => ({
      written,
      ...(conflictAt === undefined ? {} : { conflictAt }),
      ...(landedBefore.length === 0 ? {} : { landedBefore }),
    });
    for (const [index, message] of messages.entries()) {
      const holder = chat.get(message.sequence);
      // The same message again (same message_id) is a repeat of a write that landed, not a conflict.
      if (holder === undefined) chat.set(message.sequence, Object.freeze({ ...message }));
      else if (holder.messageId === message.messageId) landedBefore.push(holder);
      else return result(index, message.sequence);
    }
    return result(messages.length);
  }

  async getMessage(chatId: ChatId, sequence: Sequence): Promise<StoredMessage | undefined> {
    return this.messages.get(chatId)?.get(sequence);
  }

  async readMessages(chatId: ChatId, range: MessageRange): Promise<StoredMessage[]> {
    checkMessageRange(range);
    const { after, before } = range;
    const selected = [...(this.messages.get(chatId)?.values() ?? [])].filter(
      (message) =>
        (after === undefined || message.sequence > after) &&
        (before === undefined || message.sequence < before),
    );
    selected.sort((a, b) => (range.order === "asc" ? a.sequence - b.sequence : b.sequence - a.sequence));
    return selected.slice(0, range.limit);
  }

  async putIdempotencyRecords(records: readonly IdempotencyRecord[]): Promise<IdempotencyRecord[]> {
    const existing: IdempotencyRecord[] = [];
    const now = this.clock.now();
    for (const record of records) {
      const recordKey = key(record.chatId, record.clientMessageId);
      const stored = this.idempotency.get(recordKey);
      // D12: the condition is `attribute_not_exists OR expires_at < :now`.
      if (stored !== undefined && isSameIdempotencyRecord(stored, record)) continue;
      if (stored !== undefined && isInForce(stored, now)) existing.push(stored);
      else this.idempotency.set(recordKey, Object.freeze({ ...record }));
    }
    return existing;
  }

  async moveIdempotencyRecord(
    chatId: ChatId,
    clientMessageId: string,
    fromSequence: Sequence,
    toSequence: Sequence,
  ): Promise<IdempotencyRecord | undefined> {
    checkSequence(fromSequence);
    checkSequence(toSequence);
    const recordKey = key(chatId, clientMessageId);
    const stored = this.idempotency.get(recordKey);
    if (stored === undefined || !isInForce(stored, this.clock.now())) return undefined;
    if (stored.sequence !== fromSequence) return stored;
    const moved = Object.freeze({ ...stored, sequence: toSequence });
    this.idempotency.set(recordKey, moved);
    return moved;
  }

  async getIdempotencyRecord(
    chatId: ChatId,
    clientMessageId: string,
  ): Promise<IdempotencyRecord | undefined> {
    const stored = this.idempotency.get(key(chatId, clientMessageId));
    return stored !== undefined && isInForce(stored, this.clock.now()) ? stored : undefined;
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
    const counters = Object.freeze({ chatId, highWater, publishedThrough, updatedAt: this.clock.now() });
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
}
