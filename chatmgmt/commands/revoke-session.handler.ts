import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import { revokeSession } from "../auth/sessions.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { RevokeSessionCommand } from "./revoke-session.command.js";

@CommandHandler(RevokeSessionCommand)
export class RevokeSessionHandler implements ICommandHandler<RevokeSessionCommand, void> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: RevokeSessionCommand): Promise<void> {
    const session = await this.ctx.sessionStore.getSession(command.sessionId);
    // Another user's session is reported as missing: session ids reveal nothing.
    if (session === undefined || session.userId !== command.caller.userId) {
      throw new AppError("NOT_FOUND", "session not found", { details: { session_id: command.sessionId } });
    }
    await revokeSession(this.ctx, session, "revoked_by_user");
  }
}
