import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import { Sessions } from "../auth/sessions.js";
import { SESSION_STORE } from "../tokens.js";
import { LogoutCommand } from "./logout.command.js";

@CommandHandler(LogoutCommand)
export class LogoutHandler implements ICommandHandler<LogoutCommand, void> {
  constructor(
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  async execute(command: LogoutCommand): Promise<void> {
    const session = await this.sessionStore.getSession(command.caller.sessionId);
    if (session !== undefined) await this.sessions.revoke(session, "logout");
  }
}
