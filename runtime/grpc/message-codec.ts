import type { Message, Message__Output } from "../../proto/generated/messaging/v1/Message.js";
import type { AppError } from "../errors.js";
import { type ChatId, isSequence, type MessageId, type UserId } from "../ids.js";
import { CONTENT_TYPES, type StoredMessage } from "../ports/message-store.js";

/**
 * The one mapping between a stored message and `messaging.v1.Message` (common.proto), used by every gRPC
 * edge that carries messages: IngestService's sync replies, GatewayService's deliveries and ChatService's
 * history. Sequences travel as uint64 and are read as JS numbers (LOADER_OPTIONS `longs: Number`), which
 * is exact up to 2^53-1, the largest sequence there is (D13).
 */
export function toProtoMessage(message: StoredMessage): Message {
  return {
    message_id: message.messageId,
    chat_id: message.chatId,
    sender_id: message.senderId,
    client_message_id: message.clientMessageId,
    sequence: message.sequence,
    content_type: message.contentType,
    content: message.content,
    created_at: message.createdAt,
  };
}

/**
 * How an edge reports a field of a received Message it cannot use: on a server it is the caller's mistake,
 * on a client the peer's (a node of another version), so each edge supplies its own error.
 */
export type InvalidMessageField = (field: string, reason: string) => AppError;

/**
 * A received Message as a stored message, checked for what the wire form cannot rule out: empty ids, a
 * sequence outside 1..2^53-1 (a uint64 past it has lost digits already), an unknown content type.
 */
export function fromProtoMessage(message: Message__Output, invalid: InvalidMessageField): StoredMessage {
  if (!isSequence(message.sequence)) throw invalid("message.sequence", "must be an integer in 1..2^53-1");
  const contentType = CONTENT_TYPES.find((type) => type === message.content_type);
  if (contentType === undefined) throw invalid("message.content_type", "is not supported");
  const required = (value: string, field: string): string => {
    if (value === "") throw invalid(field, "is required");
    return value;
  };
  return {
    chatId: required(message.chat_id, "message.chat_id") as ChatId,
    sequence: message.sequence,
    messageId: required(message.message_id, "message.message_id") as MessageId,
    senderId: required(message.sender_id, "message.sender_id") as UserId,
    clientMessageId: message.client_message_id,
    content: message.content,
    contentType,
    createdAt: message.created_at,
  };
}
