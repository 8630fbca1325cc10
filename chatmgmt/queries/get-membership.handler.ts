import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { MembershipRecord } from "../../runtime/ports/chat-store.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { GetMembershipQuery } from "./get-membership.query.js";

@QueryHandler(GetMembershipQuery)
export class GetMembershipHandler implements IQueryHandler<GetMembershipQuery, MembershipRecord | undefined> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(query: GetMembershipQuery): Promise<MembershipRecord | undefined> {
    return this.ctx.chatStore.getMembership(query.chatId, query.userId);
  }
}
