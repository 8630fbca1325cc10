import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatRecord, ChatStore, MemberRole, MembershipRecord } from "../../runtime/ports/chat-store.js";

/**
 * Authorization reads of spec §5: the caller's membership is read strongly consistent first; a chat is
 * visible only once its record says `active` (D15).
 */
export async function requireChat(chatStore: ChatStore, chatId: ChatId): Promise<ChatRecord> {
  const chat = await chatStore.getChat(chatId, { consistent: true });
  if (chat?.status !== "active")
    throw new AppError("NOT_FOUND", "chat not found", { details: { chat_id: chatId } });
  return chat;
}

export async function requireMembership(
  chatStore: ChatStore,
  chatId: ChatId,
  userId: UserId,
): Promise<{ chat: ChatRecord; membership: MembershipRecord }> {
  const [membership, chat] = await Promise.all([
    chatStore.getMembership(chatId, userId),
    chatStore.getChat(chatId, { consistent: true }),
  ]);
  if (chat?.status !== "active")
    throw new AppError("NOT_FOUND", "chat not found", { details: { chat_id: chatId } });
  if (membership === undefined) {
    throw new AppError("NOT_A_MEMBER", "you are not a member of this chat", { details: { chat_id: chatId } });
  }
  return { chat, membership };
}

export function requireRole(membership: MembershipRecord, allowed: readonly MemberRole[]): void {
  if (!allowed.includes(membership.role)) {
    throw new AppError("FORBIDDEN", "your role does not allow this", {
      details: { required_role: allowed[allowed.length - 1] ?? "owner", your_role: membership.role },
    });
  }
}

export function requireGroup(chat: ChatRecord, action: string): void {
  if (chat.chatType !== "group") {
    throw new AppError("INVALID_OPERATION", `a direct chat cannot ${action}`, {
      details: { chat_type: chat.chatType },
    });
  }
}
