import type { ChatId, UserId } from "../../ids.js";
import {
  CHAT_STATUSES,
  CHAT_TYPES,
  type ChatRecord,
  MEMBER_ROLES,
  type MembershipRecord,
} from "../../ports/chat-store.js";
import {
  type Item,
  num,
  readEnum,
  readNumber,
  readOptionalNumber,
  readOptionalString,
  readString,
  str,
} from "./item-codec.js";

/**
 * Items of the management plane's chat tables (`chats`, `chat_memberships`, `direct_chat_index`), attribute
 * names as in spec §4. Absent values (a direct chat's name, an unmuted membership) are absent attributes,
 * not NULLs, so that `attribute_exists` means what it says.
 */
export const encodeChat = (chat: ChatRecord): Item => ({
  chat_id: str(chat.chatId),
  chat_type: str(chat.chatType),
  ...(chat.name === null ? {} : { name: str(chat.name) }),
  created_by: str(chat.createdBy),
  status: str(chat.status),
  member_count: num(chat.memberCount),
  created_at: num(chat.createdAt),
  updated_at: num(chat.updatedAt),
});

export const decodeChat = (item: Item): ChatRecord => ({
  chatId: readString(item, "chat_id") as ChatId,
  chatType: readEnum(item, "chat_type", CHAT_TYPES),
  name: readOptionalString(item, "name") ?? null,
  createdBy: readString(item, "created_by") as UserId,
  status: readEnum(item, "status", CHAT_STATUSES),
  memberCount: readNumber(item, "member_count"),
  createdAt: readNumber(item, "created_at"),
  updatedAt: readNumber(item, "updated_at"),
});

export const encodeMembership = (membership: MembershipRecord): Item => ({
  chat_id: str(membership.chatId),
  user_id: str(membership.userId),
  role: str(membership.role),
  joined_at: num(membership.joinedAt),
  updated_at: num(membership.updatedAt),
  ...(membership.mutedUntil === undefined ? {} : { muted_until: num(membership.mutedUntil) }),
});

export function decodeMembership(item: Item): MembershipRecord {
  const mutedUntil = readOptionalNumber(item, "muted_until");
  return {
    chatId: readString(item, "chat_id") as ChatId,
    userId: readString(item, "user_id") as UserId,
    role: readEnum(item, "role", MEMBER_ROLES),
    joinedAt: readNumber(item, "joined_at"),
    updatedAt: readNumber(item, "updated_at"),
    ...(mutedUntil === undefined ? {} : { mutedUntil }),
  };
}

export const encodeDirectChat = (pairKey: string, chatId: ChatId, createdAt: number): Item => ({
  pair_key: str(pairKey),
  chat_id: str(chatId),
  created_at: num(createdAt),
});

export const decodeDirectChatId = (item: Item): ChatId => readString(item, "chat_id") as ChatId;
