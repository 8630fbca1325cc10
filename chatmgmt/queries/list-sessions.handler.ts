import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { SessionRecord } from "../../runtime/ports/session-store.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { ListSessionsQuery } from "./list-sessions.query.js";

@QueryHandler(ListSessionsQuery)
export class ListSessionsHandler implements IQueryHandler<ListSessionsQuery, SessionRecord[]> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(query: ListSessionsQuery): Promise<SessionRecord[]> {
    return this.ctx.sessionStore.listSessionsOfUser(query.caller.userId);
  }
}
