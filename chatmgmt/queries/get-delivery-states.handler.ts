import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { ChatId } from "../../runtime/ids.js";
import { currentSequence } from "../chats/chat-tail.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { type DeliveryStateView, GetDeliveryStatesQuery } from "./get-delivery-states.query.js";

/** spec §2 `max_chats_per_user` (also announced by `GET /api/v1/`). */
export const MAX_CHATS_PER_USER = 1000;

/** Chats the caller is not a member of are left out (they reveal nothing). */
@QueryHandler(GetDeliveryStatesQuery)
export class GetDeliveryStatesHandler implements IQueryHandler<GetDeliveryStatesQuery, DeliveryStateView[]> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(query: GetDeliveryStatesQuery): Promise<DeliveryStateView[]> {
    const userId = query.caller.userId;
    let chatIds: ChatId[];
    if (query.chatIds === undefined) {
      chatIds = [];
      let cursor: string | undefined;
      do {
        const page = await this.ctx.chatStore.listChatsOfUser(userId, {
          limit: 100,
          ...(cursor === undefined ? {} : { cursor }),
        });
        chatIds.push(...page.items.map((m) => m.chatId));
        cursor = page.next;
      } while (cursor !== undefined && chatIds.length < MAX_CHATS_PER_USER);
    } else {
      const memberships = await this.ctx.chatStore.getMemberships(
        query.chatIds.map((chatId) => ({ chatId, userId })),
      );
      const member = new Set(memberships.map((m) => m.chatId));
      chatIds = query.chatIds.filter((chatId) => member.has(chatId));
    }
    return Promise.all(
      chatIds.map(async (chatId) => {
        const [state, tail] = await Promise.all([
          this.ctx.messageStore.getDeliveryState(userId, chatId),
          currentSequence(this.ctx.messageStore, chatId),
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
