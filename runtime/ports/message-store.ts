import type { ChatId, MessageId, Sequence, UserId } from "../ids.js";

/**
 * The durability plane's storage (tables `messages`, `idempotency_keys`, `chat_counters`, `delivery_state`).
 * Every write is a conditional write (D2): nothing here ever overwrites a message, lowers a counter or a
 * delivery state. No multi-item transactions: each method is a sequence of single-item conditional writes,
 * so the same code runs on DynamoDB and dynalite.
 *
 * Reads of messages and counters are strongly consistent. Times are epoch milliseconds.
 */
export const CONTENT_TYPES = ["text/plain"] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export interface StoredMessage {
  readonly chatId: ChatId;
  readonly sequence: Sequence;
  readonly messageId: MessageId;
  readonly senderId: UserId;
  readonly clientMessageId: string;
  readonly content: string;
  readonly contentType: ContentType;
  readonly createdAt: number;
}

/** `(chat_id, client_message_id) -> (sequence, message_id)`: the durable half of the dedup of D2. */
export interface IdempotencyRecord {
  readonly chatId: ChatId;
  readonly clientMessageId: string;
  readonly messageId: MessageId;
  readonly sequence: Sequence;
  readonly createdAt: number;
  /** D12: reads ignore records past this time; a put may replace an expired record. */
  readonly expiresAt: number;
}

/**
 * Per-chat counters. `highWater` is a lower bound of the chat's tail that speeds activation (the true tail is
 * found by reading messages above it); `publishedThrough` is the outbox position of D4: every sequence up to
 * it has been published to the event log.
 */
export interface ChatCounters {
  readonly chatId: ChatId;
  readonly highWater: number;
  readonly publishedThrough: number;
  readonly updatedAt: number;
}

export interface AppendResult {
  /** How many messages, from the front of the batch, were written. */
  readonly written: number;
  /** The first sequence that another writer already holds (D2 fencing); absent when all were written. */
  readonly conflictAt?: Sequence;
  /**
   * Messages of the written prefix that were already stored under the same message_id (an earlier attempt
   * whose reply was lost, or a twin owner continuing the same claim), as stored: their content and
   * created_at are what readers see, so they are what the writer must acknowledge and publish. Absent when
   * every message was written by this call.
   */
  readonly landedBefore?: readonly StoredMessage[];
}

export interface MessageRange {
  /** Only sequences strictly greater than this. */
  readonly after?: number;
  /** Only sequences strictly less than this. */
  readonly before?: number;
  readonly limit: number;
  readonly order: "asc" | "desc";
}

export interface DeliveryState {
  readonly userId: UserId;
  readonly chatId: ChatId;
  readonly lastAckedSequence: Sequence;
  readonly updatedAt: number;
}

export interface MessageStore {
  /**
   * Writes messages of one chat, given in ascending consecutive sequence order, each only if its
   * `(chat_id, sequence)` is free. Stops at the first sequence that is taken and reports it; never overwrites.
   * Shaped as a batch so that a later adapter may commit a run of messages with one conditional write.
   */
  appendMessages(chatId: ChatId, messages: readonly StoredMessage[]): Promise<AppendResult>;

  getMessage(chatId: ChatId, sequence: Sequence): Promise<StoredMessage | undefined>;

  /** Messages of one chat in a range, ascending or descending, at most `limit` (1..1000). */
  readMessages(chatId: ChatId, range: MessageRange): Promise<StoredMessage[]>;

  /**
   * Creates each record only if no unexpired record exists for its key. Returns the records that already
   * existed (the stored ones, not the given ones), so a caller learns the original sequence of a retry.
   */
  putIdempotencyRecords(records: readonly IdempotencyRecord[]): Promise<IdempotencyRecord[]>;

  /**
   * Compare-and-set of a claim whose sequence another writer took (D2 fencing): points the unexpired record
   * of `(chatId, clientMessageId)` from `fromSequence` to `toSequence` only if it still holds `fromSequence`.
   * Returns the record as stored afterwards (moved by us, or by whoever moved it first), or undefined when no
   * record is in force.
   */
  moveIdempotencyRecord(
    chatId: ChatId,
    clientMessageId: string,
    fromSequence: Sequence,
    toSequence: Sequence,
  ): Promise<IdempotencyRecord | undefined>;

  /** The unexpired record (eventually consistent read), or undefined. */
  getIdempotencyRecord(chatId: ChatId, clientMessageId: string): Promise<IdempotencyRecord | undefined>;

  getCounters(chatId: ChatId): Promise<ChatCounters | undefined>;

  /**
   * Raises `highWater` and/or `publishedThrough` to the given values when they are higher than the stored
   * ones (a missing item counts as 0/0); never lowers either. Returns the counters as stored afterwards.
   */
  advanceCounters(
    chatId: ChatId,
    advance: { readonly highWater?: number; readonly publishedThrough?: number },
  ): Promise<ChatCounters>;

  /**
   * D8: `SET last_acked_sequence = :s IF attribute_not_exists(...) OR last_acked_sequence < :s`.
   * Returns true when the stored value rose, false when it was already at or above `sequence`.
   */
  advanceDeliveryState(userId: UserId, chatId: ChatId, sequence: Sequence): Promise<boolean>;

  getDeliveryState(userId: UserId, chatId: ChatId): Promise<DeliveryState | undefined>;

  /** Every delivery state of one user, ordered by chat id. */
  listDeliveryStates(userId: UserId): Promise<DeliveryState[]>;
}
