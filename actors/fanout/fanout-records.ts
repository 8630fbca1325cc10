import { AppError } from "../../runtime/errors.js";
import { decodeEnvelope, type EventEnvelope, messagePersistedPayload } from "../../runtime/events.js";
import type { ChatId, ConnectionId } from "../../runtime/ids.js";
import type { ConsumedRecord } from "../../runtime/ports/event-log.js";
import type { ContentType, StoredMessage } from "../../runtime/ports/message-store.js";

/**
 * What a fanout worker makes of one consumed record. Anything that is not a well-formed event of a known
 * type is `poison` (dead-lettered, never retried: it would fail the same way forever).
 */
export type ParsedRecord =
  | {
      readonly kind: "message";
      readonly message: StoredMessage;
      /** The sending connection, which had its ack and needs no push (optional event field, see below). */
      readonly excludeConnectionId: ConnectionId | undefined;
      readonly eventVersion: number;
    }
  | { readonly kind: "membership"; readonly chatId: ChatId; readonly eventType: string }
  | { readonly kind: "poison"; readonly reason: string };

/**
 * Optional MessagePersisted field (schema evolution allows adding an optional field; default: absent) naming
 * the connection that sent the message: the sender's other connections still get the push, the sending one
 * does not. Events republished after a restart lack it (the hint lives in the sequencer's memory only).
 */
export const SENDER_CONNECTION_FIELD = "sender_connection_id";

export function parseRecord(record: ConsumedRecord): ParsedRecord {
  let envelope: EventEnvelope;
  try {
    envelope = decodeEnvelope(record.value);
  } catch (error) {
    return { kind: "poison", reason: reasonOf(error) };
  }
  try {
    switch (envelope.event_type) {
      case "MessagePersisted":
        return messageOf(envelope);
      case "MembershipChanged":
      case "ChatCreated":
        return { kind: "membership", chatId: chatIdOf(envelope), eventType: envelope.event_type };
      default: {
        const unknown: never = envelope.event_type;
        return { kind: "poison", reason: `unknown event_type ${String(unknown)}` };
      }
    }
  } catch (error) {
    return { kind: "poison", reason: reasonOf(error) };
  }
}

function messageOf(envelope: EventEnvelope): ParsedRecord {
  const payload = messagePersistedPayload(envelope);
  const createdAt = Date.parse(payload.created_at);
  if (!Number.isFinite(createdAt))
    throw new AppError("INVALID_MESSAGE", "MessagePersisted has no created_at");
  const sender = (envelope.payload as Record<string, unknown>)[SENDER_CONNECTION_FIELD];
  return {
    kind: "message",
    message: {
      chatId: payload.chat_id,
      sequence: payload.sequence,
      messageId: payload.message_id,
      senderId: payload.sender_id,
      clientMessageId: payload.client_message_id,
      content: payload.content,
      contentType: payload.content_type as ContentType,
      createdAt,
    },
    excludeConnectionId: typeof sender === "string" && sender !== "" ? (sender as ConnectionId) : undefined,
    eventVersion: envelope.event_version,
  };
}

function chatIdOf(envelope: EventEnvelope): ChatId {
  const chatId = (envelope.payload as Record<string, unknown>).chat_id;
  if (typeof chatId !== "string" || chatId === "") {
    throw new AppError("INVALID_MESSAGE", `${envelope.event_type} has no chat_id`);
  }
  return chatId as ChatId;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
