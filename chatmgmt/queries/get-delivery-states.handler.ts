import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { ChatId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { MAX_CHATS_PER_USER } from "../chats/chat-limits.js";
import { currentSequence } from "../chats/chat-tail.js";
import { CHAT_STORE, MESSAGE_STORE } from "../tokens.js";
import { type DeliveryStateView, GetDeliveryStatesQuery } from "./get-delivery-states.query.js";

/** Chats the caller is not a member of are left out (they reveal nothing). */
@QueryHandler(GetDeliveryStatesQuery)
export class GetDeliveryStatesHandler implements IQueryHandler<GetDeliveryStatesQuery, DeliveryStateView[]> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
  ) {}

  async execute(query: GetDeliveryStatesQuery): Promise<DeliveryStateView[]> {
    const userId = query.caller.userId;
    let chatIds: ChatId[];
    if (query.chatIds === undefined) {
      chatIds = [];
      let cursor: string | undefined;
      do {
        const page = await this.chatStore.listChatsOfUser(userId, {
          limit: 100,
          ...(cursor === undefined ? {} : { cursor }),
        });
        chatIds.push(...page.items.map((m) => m.chatId));
        cursor = page.next;
      } while (cursor !== undefined && chatIds.length < MAX_CHATS_PER_USER);
    } else {
      const memberships = await this.chatStore.getMemberships(
        query.chatIds.map((chatId) => ({ chatId, userId })),
      );
      const member = new Set(memberships.map((m) => m.chatId));
      chatIds = query.chatIds.filter((chatId) => member.has(chatId));
    }
    return Promise.all(
      chatIds.map(async (chatId) => {
        const [state, tail] = await Promise.all([
          this.messageStore.getDeliveryState(userId, chatId),
          currentSequence(this.messageStore, chatId),
        ]);
        return {
          chatId,
          lastAckedSequence: state?.lastAckedSequence ?? 0,
          currentSequence: tail,
          updatedAt: state?.updatedAt ?? null,
        };
      }),
    );
  }
}
