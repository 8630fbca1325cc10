import type { ChatId, MessageId, Sequence, UserId } from "../ids.js";

/**
 * The durability plane's storage (tables `messages`, `idempotency_keys`, `chat_counters`, `delivery_state`).
 * Nothing here ever overwrites a message, lowers a counter or a delivery state. No multi-item transactions,
 * so the same code runs on DynamoDB and dynalite.
 *
 * D16 (group commit): messages are stored in *blocks*, one item per batch a sequencer committed, keyed by the
 * block's first sequence and put with `attribute_not_exists`. `idempotency_keys` is an index of
 * `(chat, client_message_id) -> (sequence, message_id)` written behind the block, from stored blocks only;
 * `chat_counters.indexed_through` says up to which sequence it is complete. Reads of messages, counters and
 * the index are strongly consistent. Times are epoch milliseconds.
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

/**
 * One item of `messages`: consecutive messages of one chat, committed by one conditional put. An item of the
 * per-message format (before D16) reads as a block of one, marked `legacy`.
 */
export interface MessageBlock {
  readonly chatId: ChatId;
  readonly firstSequence: Sequence;
  readonly lastSequence: Sequence;
  /** Ascending, consecutive, from firstSequence to lastSequence. */
  readonly messages: readonly StoredMessage[];
  readonly legacy?: true;
}

/** An index record: `(chat_id, client_message_id) -> (sequence, message_id)`, made from a stored message. */
export interface IdempotencyRecord {
  readonly chatId: ChatId;
  readonly clientMessageId: string;
  readonly messageId: MessageId;
  readonly sequence: Sequence;
  readonly createdAt: number;
  /** D12/D16 rule 8: the message's created_at + 7 days; reads ignore records past it, none is written past it. */
  readonly expiresAt: number;
}

export interface IndexKey {
  readonly chatId: ChatId;
  readonly clientMessageId: string;
}

/**
 * Per-chat counters. `highWater` is a lower bound of the chat's tail; `publishedThrough` is the outbox
 * position of D4: every sequence up to it has been published to the event log; `indexedThrough` (D16) is the
 * position up to which every stored message has its index record.
 */
export interface ChatCounters {
  readonly chatId: ChatId;
  readonly highWater: number;
  readonly publishedThrough: number;
  readonly indexedThrough: number;
  readonly updatedAt: number;
}

/** What a block put did: stored it, or found its key taken (another owner extended the chain). */
export type BlockPutOutcome = "written" | "taken";

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
   * D16: puts one block (messages of one chat in ascending consecutive sequence order, at least one) under the
   * key of its first sequence, only if that key is free. "taken" when it is not; nothing is ever overwritten.
   * A failure other than the condition throws, and then whether the block landed is unknown: the caller
   * reads the chain again before deciding anything (D16 rule 6).
   */
  appendBlock(chatId: ChatId, messages: readonly StoredMessage[]): Promise<BlockPutOutcome>;

  /**
   * Every block that holds a sequence greater than `after`, ascending by first sequence: the block containing
   * `after + 1` (found without assuming a block size, rule 7) and all blocks after it.
   */
  readBlocksAfter(chatId: ChatId, after: number): Promise<MessageBlock[]>;

  /** The last sequence of the block with the greatest first sequence (the chain's tail), 0 when none. */
  readTail(chatId: ChatId): Promise<number>;

  getMessage(chatId: ChatId, sequence: Sequence): Promise<StoredMessage | undefined>;

  /** Messages of one chat in a range, ascending or descending, at most `limit` (1..1000). */
  readMessages(chatId: ChatId, range: MessageRange): Promise<StoredMessage[]>;

  /**
   * The index records in force of the given keys, strongly consistent (rule 4: a key is absent only when such a
   * read says so). Keys of any chats; the order of the result is unspecified.
   */
  getIndexRecords(keys: readonly IndexKey[]): Promise<IdempotencyRecord[]>;

  /**
   * Stores index records (made from stored messages only), replacing a record of the same key. Records already
   * expired are skipped (rule 8). Resolves only once every record is stored; throws otherwise.
   */
  putIndexRecords(records: readonly IdempotencyRecord[]): Promise<void>;

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
   * D16 rule 3: sets `indexedThrough` to `to` only if it is stored as `from` (a missing item or field counts
   * as 0). Returns the counters as stored afterwards: moved by this call, or as another writer left them.
   */
  compareAndSetIndexedThrough(chatId: ChatId, from: number, to: number): Promise<ChatCounters>;

  /**
   * D8: `SET last_acked_sequence = :s IF attribute_not_exists(...) OR last_acked_sequence < :s`.
   * Returns true when the stored value rose, false when it was already at or above `sequence`.
   */
  advanceDeliveryState(userId: UserId, chatId: ChatId, sequence: Sequence): Promise<boolean>;

  getDeliveryState(userId: UserId, chatId: ChatId): Promise<DeliveryState | undefined>;

  /** Every delivery state of one user, ordered by chat id. */
  listDeliveryStates(userId: UserId): Promise<DeliveryState[]>;
}
