import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import { Sessions } from "../auth/sessions.js";
import { SESSION_STORE } from "../tokens.js";
import { RevokeAllSessionsCommand } from "./revoke-all-sessions.command.js";

@CommandHandler(RevokeAllSessionsCommand)
export class RevokeAllSessionsHandler implements ICommandHandler<RevokeAllSessionsCommand, number> {
  constructor(
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  async execute(command: RevokeAllSessionsCommand): Promise<number> {
    const sessions = await this.sessionStore.listSessionsOfUser(command.caller.userId);
    let revoked = 0;
    for (const session of sessions) {
      if (!command.includeCurrent && session.sessionId === command.caller.sessionId) continue;
      await this.sessions.revoke(session, "revoked_by_user");
      revoked += 1;
    }
    return revoked;
  }
}
