import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { ChatStore, MembershipRecord } from "../../runtime/ports/chat-store.js";
import { CHAT_STORE } from "../tokens.js";
import { GetMembershipQuery } from "./get-membership.query.js";

@QueryHandler(GetMembershipQuery)
export class GetMembershipHandler implements IQueryHandler<GetMembershipQuery, MembershipRecord | undefined> {
  constructor(@Inject(CHAT_STORE) private readonly chatStore: ChatStore) {}

  async execute(query: GetMembershipQuery): Promise<MembershipRecord | undefined> {
    return this.chatStore.getMembership(query.chatId, query.userId);
  }
}
