import type { z } from "zod";
import { isoTime } from "../../runtime/clock.js";
import { toWireMessage, type WireMessage } from "../../runtime/message-wire.js";
import type { ChatRecord, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { SessionRecord } from "../../runtime/ports/session-store.js";
import type { UserRecord } from "../../runtime/ports/user-store.js";
import type { IssuedTokens } from "../auth/sessions.js";
import type { ChatDetail, NamedMember } from "../queries/get-chat.query.js";
import type { ChatListItem } from "../queries/list-chats.query.js";
import type * as Shapes from "./openapi/shapes.js";

/** The shape of the OpenAPI document's schema `S` (openapi/shapes.ts): each view below is typed by one. */
type Shape<S extends z.ZodType> = z.input<S>;

/** The REST JSON shapes of spec §2 (snake_case, ISO times), built in one place. */
const iso = (ms: number | undefined | null): string | null =>
  ms === undefined || ms === null ? null : isoTime(ms);

export const userView = (user: UserRecord): Shape<typeof Shapes.User> => ({
  user_id: user.userId,
  phone_number: user.phoneNumber,
  display_name: user.displayName,
  created_at: isoTime(user.createdAt),
  updated_at: isoTime(user.updatedAt),
});

export const publicUserView = (user: UserRecord): Shape<typeof Shapes.PublicUser> => ({
  user_id: user.userId,
  display_name: user.displayName,
  created_at: isoTime(user.createdAt),
});

export const chatView = (chat: ChatRecord): Shape<typeof Shapes.Chat> => ({
  chat_id: chat.chatId,
  type: chat.chatType,
  name: chat.name,
  created_by: chat.createdBy,
  created_at: isoTime(chat.createdAt),
  updated_at: isoTime(chat.updatedAt),
  member_count: chat.memberCount,
});

export const memberView = (member: NamedMember): Shape<typeof Shapes.Member> => ({
  user_id: member.membership.userId,
  role: member.membership.role,
  display_name: member.displayName,
  joined_at: isoTime(member.membership.joinedAt),
});

export const chatDetailView = (
  chat: ChatRecord,
  members: readonly NamedMember[],
): Shape<typeof Shapes.ChatDetail> => ({
  ...chatView(chat),
  members: members.map(memberView),
});

export const chatWithStateView = (detail: ChatDetail): Shape<typeof Shapes.ChatWithState> => ({
  ...chatView(detail.chat),
  // Each member's last acknowledged sequence: the messages their devices have (the "delivered" tick).
  members: detail.members.map((member) => ({
    ...memberView(member),
    last_acked_sequence: member.lastAckedSequence,
  })),
  current_sequence: detail.currentSequence,
  my_membership: {
    role: detail.myMembership.role,
    joined_at: isoTime(detail.myMembership.joinedAt),
    muted_until: iso(detail.myMembership.mutedUntil),
    last_acked_sequence: detail.lastAckedSequence,
  },
});

/** Spec §2.1: `content_preview` holds at most 100 characters. */
const PREVIEW_CHARS = 100;

export function chatListItemView(item: ChatListItem): Shape<typeof Shapes.ChatListItem> {
  const { created_by: _createdBy, ...chat } = chatView(item.chat);
  const last = item.lastMessage;
  return {
    ...chat,
    my_membership: {
      role: item.membership.role,
      joined_at: isoTime(item.membership.joinedAt),
      muted_until: iso(item.membership.mutedUntil),
    },
    last_message:
      last === undefined
        ? null
        : {
            message_id: last.messageId,
            sequence: last.sequence,
            sender_id: last.senderId,
            content_preview: [...last.content].slice(0, PREVIEW_CHARS).join(""),
            created_at: isoTime(last.createdAt),
          },
    pending_ack_count: Math.max(0, item.currentSequence - item.lastAckedSequence),
    ...(item.otherMember === undefined
      ? {}
      : { other_member: { user_id: item.otherMember.userId, display_name: item.otherMember.displayName } }),
  };
}

export const membershipView = (
  membership: MembershipRecord,
  displayName: string | null,
): Shape<typeof Shapes.Membership> => ({
  chat_id: membership.chatId,
  user_id: membership.userId,
  role: membership.role,
  display_name: displayName,
  joined_at: isoTime(membership.joinedAt),
});

/** A history item: exactly the WebSocket `message` shape (runtime/message-wire.ts) plus `sender`. */
export function messageView(
  message: StoredMessage,
  senderName: string | null,
): WireMessage & Shape<typeof Shapes.Message> {
  return { ...toWireMessage(message), sender: { user_id: message.senderId, display_name: senderName } };
}

export const sessionView = (
  session: SessionRecord,
  currentSessionId: string,
): Shape<typeof Shapes.Session> => ({
  session_id: session.sessionId,
  device_id: session.deviceId,
  created_at: isoTime(session.createdAt),
  last_active_at: isoTime(session.lastActiveAt),
  expires_at: isoTime(session.expiresAt),
  is_current: session.sessionId === currentSessionId,
});

export const tokensView = (tokens: IssuedTokens): Shape<typeof Shapes.Tokens> => ({
  access_token: tokens.accessToken,
  refresh_token: tokens.refreshToken,
  token_type: "Bearer" as const,
  expires_in: tokens.expiresInS,
});

export const pagination = (hasMore: boolean, nextCursor: string | null): Shape<typeof Shapes.Pagination> => ({
  has_more: hasMore,
  next_cursor: nextCursor,
  prev_cursor: null,
});
