import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { displayNames } from "../chats/member-names.js";
import { CHAT_STORE, USER_STORE } from "../tokens.js";
import type { NamedMember } from "./get-chat.query.js";
import { ListMembersQuery } from "./list-members.query.js";

@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery, NamedMember[]> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: ListMembersQuery): Promise<NamedMember[]> {
    await requireMembership(this.chatStore, query.chatId, query.caller.userId);
    const members = await this.chatStore.listMembers(query.chatId);
    const names = await displayNames(
      this.userStore,
      members.map((m) => m.userId),
    );
    return members.map((membership) => ({ membership, displayName: names.get(membership.userId) ?? null }));
  }
}
