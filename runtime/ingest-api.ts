import type { ChatId, ConnectionId, MessageId, Sequence, UserId } from "./ids.js";
import type { ContentType, StoredMessage } from "./ports/message-store.js";

/**
 * The durability plane's service contract (proto `messaging.v1.IngestService`). Callers do not know where
 * the chat's sequencer lives: in this process (embedded) the service object is called directly, in a cluster
 * through the gRPC client, both implementing this interface. Failures are AppErrors with protocol codes
 * (`NOT_A_MEMBER`, `NOT_FOUND`, `INVALID_MESSAGE`, `MESSAGE_TOO_LARGE`, `INVALID_CONTENT_TYPE`,
 * `SERVICE_UNAVAILABLE`, `INTERNAL_ERROR`) or `NOT_OWNER`.
 */
export interface PersistRequest {
  readonly chatId: ChatId;
  readonly senderId: UserId;
  /** Client-made (UUIDv4), the same on every retry of one send. */
  readonly clientMessageId: string;
  readonly content: string;
  readonly contentType: ContentType;
  readonly traceId?: string;
  /**
   * W3C trace context of the caller's span (spec §3): the persist span continues it, and the event published
   * for the message carries the persist's own context on to fanout. Absent or malformed = a new trace.
   */
  readonly traceparent?: string;
  /**
   * The connection the send came from: the MessagePersisted event names it so fanout skips that connection
   * (it had the ack) while the sender's other devices still get the push. Never stored.
   */
  readonly senderConnectionId?: ConnectionId;
}

export interface PersistResult {
  readonly messageId: MessageId;
  readonly sequence: Sequence;
  readonly createdAt: number;
  /** True when the client_message_id was already stored: the original message is returned. */
  readonly deduplicated: boolean;
}

export interface SyncRequest {
  readonly chatId: ChatId;
  readonly userId: UserId;
  /** Messages with a sequence strictly above this; 0 = from the first. */
  readonly afterSequence: number;
  /** Page size; default 100, at most 500 (D9); 0 or absent = default. */
  readonly limit?: number;
}

export interface SyncResult {
  /** Ascending, consecutive, never above an unresolved sequence (D3). */
  readonly messages: StoredMessage[];
  readonly hasMore: boolean;
  /** The cursor of the next page plus one: last returned sequence + 1 (or afterSequence + 1 when empty). */
  readonly nextSequence: number;
  /** The chat's highest visible sequence when the page was read. */
  readonly lastSequence: number;
}

export interface AckRequest {
  readonly chatId: ChatId;
  readonly userId: UserId;
  /** Cumulative: covers every sequence up to this one. */
  readonly sequence: number;
}

export interface AckResult {
  /** The user's stored last_acked_sequence after the ack (never decreases, D8). */
  readonly lastAckedSequence: number;
}

export interface IngestApi {
  persist(request: PersistRequest): Promise<PersistResult>;
  sync(request: SyncRequest): Promise<SyncResult>;
  ack(request: AckRequest): Promise<AckResult>;
}

export const SYNC_DEFAULT_LIMIT = 100;
export const SYNC_MAX_LIMIT = 500;
