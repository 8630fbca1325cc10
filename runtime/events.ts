import { randomBytes } from "node:crypto";
import { isoTime } from "./clock.js";
import { AppError } from "./errors.js";
import type { ChatId, EventId, MessageId, Sequence, UserId } from "./ids.js";
import { isSequence } from "./ids.js";
import type { EventRecord } from "./ports/event-log.js";
import type { StoredMessage } from "./ports/message-store.js";

/**
 * Event-log records (D10, spec/delivery-presence-kafka.md §4): a JSON envelope keyed by chat_id whose
 * `payload` is the event. Consumers dedupe MessagePersisted by (chat_id, sequence) (D4).
 */
const EVENT_TYPES = ["MessagePersisted", "MembershipChanged", "ChatCreated"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventEnvelope<P = unknown> {
  readonly event_id: EventId;
  readonly event_type: EventType;
  readonly event_version: number;
  /** ISO-8601 UTC with milliseconds. */
  readonly event_time: string;
  /** Always the chat_id. */
  readonly partition_key: string;
  readonly producer_id: string;
  readonly trace_id: string;
  readonly payload: P;
}

export interface MessagePersistedPayload {
  readonly message_id: MessageId;
  readonly chat_id: ChatId;
  readonly sequence: Sequence;
  readonly sender_id: UserId;
  readonly content: string;
  readonly content_type: string;
  readonly client_message_id: string;
  readonly created_at: string;
  /** Optional (added field): the sending connection, which fanout does not push to. */
  readonly sender_connection_id?: string;
}

export interface EventMeta {
  readonly eventId: EventId;
  readonly producerId: string;
  readonly eventTime: number;
  readonly traceId?: string;
  /** The connection the message was sent from, when known (fanout skips it). */
  readonly senderConnectionId?: string;
}

/** A W3C-style 32-hex trace id, for events whose request carried none. */
const newTraceId = (): string => randomBytes(16).toString("hex");

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function messagePersistedRecord(message: StoredMessage, meta: EventMeta): EventRecord {
  const envelope: EventEnvelope<MessagePersistedPayload> = {
    event_id: meta.eventId,
    event_type: "MessagePersisted",
    event_version: 1,
    event_time: isoTime(meta.eventTime),
    partition_key: message.chatId,
    producer_id: meta.producerId,
    trace_id: meta.traceId ?? newTraceId(),
    payload: {
      message_id: message.messageId,
      chat_id: message.chatId,
      sequence: message.sequence,
      sender_id: message.senderId,
      content: message.content,
      content_type: message.contentType,
      client_message_id: message.clientMessageId,
      created_at: isoTime(message.createdAt),
      ...(meta.senderConnectionId === undefined ? {} : { sender_connection_id: meta.senderConnectionId }),
    },
  };
  return { key: message.chatId, value: encoder.encode(JSON.stringify(envelope)) };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Parses an envelope; INVALID_MESSAGE (a poison record) when it is not one. */
export function decodeEnvelope(value: Uint8Array): EventEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(value));
  } catch (error) {
    throw new AppError("INVALID_MESSAGE", "event is not UTF-8 JSON", { cause: error });
  }
  if (!isRecord(parsed)) throw new AppError("INVALID_MESSAGE", "event is not a JSON object");
  for (const field of ["event_id", "event_type", "event_time", "partition_key", "producer_id", "trace_id"]) {
    if (typeof parsed[field] !== "string") throw new AppError("INVALID_MESSAGE", `event has no ${field}`);
  }
  if (!(EVENT_TYPES as readonly unknown[]).includes(parsed.event_type)) {
    throw new AppError("INVALID_MESSAGE", `unknown event_type ${String(parsed.event_type)}`);
  }
  if (typeof parsed.event_version !== "number" || !isRecord(parsed.payload)) {
    throw new AppError("INVALID_MESSAGE", "event has no event_version or payload");
  }
  return parsed as unknown as EventEnvelope;
}

/** The MessagePersisted payload of an envelope, checked field by field. */
export function messagePersistedPayload(envelope: EventEnvelope): MessagePersistedPayload {
  const payload = envelope.payload as Record<string, unknown>;
  if (envelope.event_type !== "MessagePersisted") {
    throw new AppError("INVALID_MESSAGE", `expected MessagePersisted, got ${envelope.event_type}`);
  }
  const strings = [
    "message_id",
    "chat_id",
    "sender_id",
    "content",
    "content_type",
    "client_message_id",
    "created_at",
  ];
  for (const field of strings) {
    if (typeof payload[field] !== "string")
      throw new AppError("INVALID_MESSAGE", `MessagePersisted has no ${field}`);
  }
  if (!isSequence(payload.sequence))
    throw new AppError("INVALID_MESSAGE", "MessagePersisted has no sequence");
  return payload as unknown as MessagePersistedPayload;
}

/** `chats.created` payload (spec/rest-data-auth-chats.md §5). */
export interface ChatCreatedPayload {
  readonly chat_id: ChatId;
  readonly chat_type: "direct" | "group";
  readonly name: string | null;
  readonly status: string;
  readonly created_by: UserId;
  readonly member_count: number;
  /** Intended members (not authoritative: memberships are). */
  readonly initial_members: readonly UserId[];
  readonly created_at: string;
}

/** `memberships.changed` payload (spec §5); fanout drops its member cache of the chat on each. */
export interface MembershipChangedPayload {
  readonly chat_id: ChatId;
  readonly user_id: UserId;
  readonly change_type: "added" | "removed" | "role_changed";
  readonly role: string;
  readonly changed_by: UserId;
  readonly member_count_after: number;
  readonly changed_at: string;
}

function lifecycleRecord<P extends { readonly chat_id: ChatId }>(
  eventType: "ChatCreated" | "MembershipChanged",
  payload: P,
  meta: EventMeta,
): EventRecord {
  const envelope: EventEnvelope<P> = {
    event_id: meta.eventId,
    event_type: eventType,
    event_version: 1,
    event_time: isoTime(meta.eventTime),
    partition_key: payload.chat_id,
    producer_id: meta.producerId,
    trace_id: meta.traceId ?? newTraceId(),
    payload,
  };
  return { key: payload.chat_id, value: encoder.encode(JSON.stringify(envelope)) };
}

export const chatCreatedRecord = (payload: ChatCreatedPayload, meta: EventMeta): EventRecord =>
  lifecycleRecord("ChatCreated", payload, meta);

export const membershipChangedRecord = (payload: MembershipChangedPayload, meta: EventMeta): EventRecord =>
  lifecycleRecord("MembershipChanged", payload, meta);
