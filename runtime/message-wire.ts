import { isoTime } from "./clock.js";
import type { ChatId, MessageId, Sequence, UserId } from "./ids.js";
import type { StoredMessage } from "./ports/message-store.js";

/**
 * The one JSON shape of a stored message on every client-facing edge (spec/protocol.md §5): the WebSocket
 * `message` push, each item of `sync_response.messages` (the same without `chat_id`, which the frame holds),
 * and REST history (the push shape; REST adds only `sender`). One mapping, so the edges cannot drift apart;
 * `client_message_id` stays internal.
 */
export interface WireSyncMessage {
  readonly message_id: MessageId;
  readonly sequence: Sequence;
  readonly sender_id: UserId;
  readonly content: string;
  readonly content_type: string;
  /** ISO-8601 UTC with milliseconds. */
  readonly created_at: string;
}

export interface WireMessage {
  readonly message_id: MessageId;
  readonly chat_id: ChatId;
  readonly sequence: Sequence;
  readonly sender_id: UserId;
  readonly content: string;
  readonly content_type: string;
  readonly created_at: string;
}

/** A `sync_response` item, fields in protocol order. */
export function toWireSyncMessage(message: StoredMessage): WireSyncMessage {
  return {
    message_id: message.messageId,
    sequence: message.sequence,
    sender_id: message.senderId,
    content: message.content,
    content_type: message.contentType,
    created_at: isoTime(message.createdAt),
  };
}

/** A `message` push (and a REST history item before `sender`), fields in protocol order. */
export function toWireMessage(message: StoredMessage): WireMessage {
  return {
    message_id: message.messageId,
    chat_id: message.chatId,
    sequence: message.sequence,
    sender_id: message.senderId,
    content: message.content,
    content_type: message.contentType,
    created_at: isoTime(message.createdAt),
  };
}
