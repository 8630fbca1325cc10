import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { AppError, isAppError } from "../../runtime/errors.js";
import type { ChatStore, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { displayNames } from "../chats/member-names.js";
import { CHAT_STORE, MESSAGE_STORE, USER_STORE } from "../tokens.js";
import { type ChatListItem, type ChatListPage, ListChatsQuery } from "./list-chats.query.js";

/**
 * Pages the user's memberships by chat id (the index's sort key; spec §8.21: `updated_at` order would need
 * another index). The cursor names the last chat id of a page, so concurrent joins never repeat or skip
 * an item. Chats still `creating` (D15) are left out of the page.
 */
@QueryHandler(ListChatsQuery)
export class ListChatsHandler implements IQueryHandler<ListChatsQuery, ChatListPage> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: ListChatsQuery): Promise<ChatListPage> {
    const userId = query.caller.userId;
    let page: Awaited<ReturnType<typeof this.chatStore.listChatsOfUser>>;
    try {
      page = await this.chatStore.listChatsOfUser(userId, {
        limit: query.limit,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      });
    } catch (error) {
      if (isAppError(error) && error.code === "INVALID_MESSAGE") {
        throw new AppError("VALIDATION_ERROR", "invalid cursor", {
          details: {
            field_errors: [{ field: "cursor", code: "INVALID_VALUE", message: "not a cursor of this list" }],
          },
        });
      }
      throw error;
    }
    const items = await Promise.all(page.items.map((membership) => this.item(membership)));
    return {
      items: items.filter((item): item is ChatListItem => item !== undefined),
      nextCursor: page.next ?? null,
    };
  }

  private async item(membership: MembershipRecord): Promise<ChatListItem | undefined> {
    const { chatStore, messageStore } = this;
    const [chat, [lastMessage], state] = await Promise.all([
      chatStore.getChat(membership.chatId),
      messageStore.readMessages(membership.chatId, { limit: 1, order: "desc" }),
      messageStore.getDeliveryState(membership.userId, membership.chatId),
    ]);
    if (chat?.status !== "active") return undefined;
    const base = {
      chat,
      membership,
      lastMessage,
      currentSequence: lastMessage?.sequence ?? 0,
      lastAckedSequence: state?.lastAckedSequence ?? 0,
    };
    if (chat.chatType !== "direct") return base;
    const other = (await chatStore.listMembers(chat.chatId)).find((m) => m.userId !== membership.userId);
    if (other === undefined) return base;
    const names = await displayNames(this.userStore, [other.userId]);
    return { ...base, otherMember: { userId: other.userId, displayName: names.get(other.userId) ?? null } };
  }
}
