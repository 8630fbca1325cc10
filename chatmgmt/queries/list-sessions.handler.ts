import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { SessionRecord, SessionStore } from "../../runtime/ports/session-store.js";
import { SESSION_STORE } from "../tokens.js";
import { ListSessionsQuery } from "./list-sessions.query.js";

@QueryHandler(ListSessionsQuery)
export class ListSessionsHandler implements IQueryHandler<ListSessionsQuery, SessionRecord[]> {
  constructor(@Inject(SESSION_STORE) private readonly sessionStore: SessionStore) {}

  async execute(query: ListSessionsQuery): Promise<SessionRecord[]> {
    return this.sessionStore.listSessionsOfUser(query.caller.userId);
  }
}
