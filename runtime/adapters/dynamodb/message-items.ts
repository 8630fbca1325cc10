import type { ChatId, MessageId, UserId } from "../../ids.js";
import {
  type ChatCounters,
  CONTENT_TYPES,
  type DeliveryState,
  type IdempotencyRecord,
  type MessageBlock,
  type StoredMessage,
} from "../../ports/message-store.js";
import {
  type Item,
  num,
  readEnum,
  readNumber,
  readOptionalNumber,
  readSequence,
  readString,
  str,
} from "./item-codec.js";

/**
 * Items of the durability plane's tables (`messages`, `idempotency_keys`, `chat_counters`,
 * `delivery_state`), attribute names as in spec §4. Ids are cast back to their brands: only our own code
 * writes these tables.
 */
/** One message as stored: the per-message item of the previous format, or one entry of a block's `messages`. */
export const encodeMessage = (message: StoredMessage): Item => ({
  chat_id: str(message.chatId),
  sequence: num(message.sequence),
  message_id: str(message.messageId),
  sender_id: str(message.senderId),
  client_message_id: str(message.clientMessageId),
  content: str(message.content),
  content_type: str(message.contentType),
  created_at: num(message.createdAt),
});

const decodeMessage = (item: Item): StoredMessage => ({
  chatId: readString(item, "chat_id") as ChatId,
  sequence: readSequence(item, "sequence"),
  messageId: readString(item, "message_id") as MessageId,
  senderId: readString(item, "sender_id") as UserId,
  clientMessageId: readString(item, "client_message_id"),
  content: readString(item, "content"),
  contentType: readEnum(item, "content_type", CONTENT_TYPES),
  createdAt: readNumber(item, "created_at"),
});

/** A message inside a block: the chat is the block's. */
const encodeBlockEntry = (message: StoredMessage): Item => {
  const { chat_id: _chat, ...entry } = encodeMessage(message);
  return entry;
};

/**
 * D16: one block item of `messages`. The sort key `sequence` is the block's first sequence; `last_sequence`
 * and `messages` (a list of maps, each a message with its own sequence) carry the rest. An item without
 * `messages` was written in the per-message format and reads as a block of one.
 */
export const encodeBlock = (chatId: ChatId, messages: readonly StoredMessage[]): Item => ({
  chat_id: str(chatId),
  sequence: num((messages[0] as StoredMessage).sequence),
  last_sequence: num((messages.at(-1) as StoredMessage).sequence),
  messages: { L: messages.map((message) => ({ M: encodeBlockEntry(message) })) },
});

export function decodeBlock(item: Item): MessageBlock {
  const chatId = readString(item, "chat_id") as ChatId;
  const entries = item.messages?.L;
  if (entries === undefined) {
    const message = decodeMessage(item);
    return {
      chatId,
      firstSequence: message.sequence,
      lastSequence: message.sequence,
      messages: [message],
      legacy: true,
    };
  }
  const chat = str(chatId);
  const messages = entries.map((entry) => decodeMessage({ ...(entry.M ?? {}), chat_id: chat }));
  return {
    chatId,
    firstSequence: readSequence(item, "sequence"),
    lastSequence: readSequence(item, "last_sequence"),
    messages,
  };
}

/** `ttl` (epoch seconds, rounded up) lets production's DynamoDB TTL reclaim the item; reads use `expires_at`. */
export const encodeIdempotencyRecord = (record: IdempotencyRecord): Item => ({
  chat_id: str(record.chatId),
  client_message_id: str(record.clientMessageId),
  message_id: str(record.messageId),
  sequence: num(record.sequence),
  created_at: num(record.createdAt),
  expires_at: num(record.expiresAt),
  ttl: num(Math.ceil(record.expiresAt / 1000)),
});

export const decodeIdempotencyRecord = (item: Item): IdempotencyRecord => ({
  chatId: readString(item, "chat_id") as ChatId,
  clientMessageId: readString(item, "client_message_id"),
  messageId: readString(item, "message_id") as MessageId,
  sequence: readSequence(item, "sequence"),
  createdAt: readNumber(item, "created_at"),
  expiresAt: readNumber(item, "expires_at"),
});

export const decodeCounters = (item: Item): ChatCounters => ({
  chatId: readString(item, "chat_id") as ChatId,
  highWater: readNumber(item, "high_water"),
  publishedThrough: readNumber(item, "published_through"),
  indexedThrough: readOptionalNumber(item, "indexed_through") ?? 0,
  updatedAt: readNumber(item, "updated_at"),
});

export const decodeDeliveryState = (item: Item): DeliveryState => ({
  userId: readString(item, "user_id") as UserId,
  chatId: readString(item, "chat_id") as ChatId,
  lastAckedSequence: readSequence(item, "last_acked_sequence"),
  updatedAt: readNumber(item, "updated_at"),
});
