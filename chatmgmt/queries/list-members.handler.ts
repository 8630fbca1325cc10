import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { requireMembership } from "../chats/chat-access.js";
import { displayNames } from "../chats/member-names.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import type { NamedMember } from "./get-chat.query.js";
import { ListMembersQuery } from "./list-members.query.js";

@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery, NamedMember[]> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(query: ListMembersQuery): Promise<NamedMember[]> {
    await requireMembership(this.ctx.chatStore, query.chatId, query.caller.userId);
    const members = await this.ctx.chatStore.listMembers(query.chatId);
    const names = await displayNames(
      this.ctx,
      members.map((m) => m.userId),
    );
    return members.map((membership) => ({ membership, displayName: names.get(membership.userId) ?? null }));
  }
}
