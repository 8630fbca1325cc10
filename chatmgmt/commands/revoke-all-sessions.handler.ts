import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { revokeSession } from "../auth/sessions.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { RevokeAllSessionsCommand } from "./revoke-all-sessions.command.js";

@CommandHandler(RevokeAllSessionsCommand)
export class RevokeAllSessionsHandler implements ICommandHandler<RevokeAllSessionsCommand, number> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: RevokeAllSessionsCommand): Promise<number> {
    const sessions = await this.ctx.sessionStore.listSessionsOfUser(command.caller.userId);
    let revoked = 0;
    for (const session of sessions) {
      if (!command.includeCurrent && session.sessionId === command.caller.sessionId) continue;
      await revokeSession(this.ctx, session, "revoked_by_user");
      revoked += 1;
    }
    return revoked;
  }
}
