import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import { Sessions } from "../auth/sessions.js";
import { SESSION_STORE } from "../tokens.js";
import { RevokeSessionCommand } from "./revoke-session.command.js";

@CommandHandler(RevokeSessionCommand)
export class RevokeSessionHandler implements ICommandHandler<RevokeSessionCommand, void> {
  constructor(
    @Inject(SESSION_STORE) private readonly sessionStore: SessionStore,
    @Inject(Sessions) private readonly sessions: Sessions,
  ) {}

  async execute(command: RevokeSessionCommand): Promise<void> {
    const session = await this.sessionStore.getSession(command.sessionId);
    // Another user's session is reported as missing: session ids reveal nothing.
    if (session === undefined || session.userId !== command.caller.userId) {
      throw new AppError("NOT_FOUND", "session not found", { details: { session_id: command.sessionId } });
    }
    await this.sessions.revoke(session, "revoked_by_user");
  }
}
