import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { revokeSession } from "../auth/sessions.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { LogoutCommand } from "./logout.command.js";

@CommandHandler(LogoutCommand)
export class LogoutHandler implements ICommandHandler<LogoutCommand, void> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: LogoutCommand): Promise<void> {
    const session = await this.ctx.sessionStore.getSession(command.caller.sessionId);
    if (session !== undefined) await revokeSession(this.ctx, session, "logout");
  }
}
