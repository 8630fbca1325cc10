import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { UserRecord } from "../../runtime/ports/user-store.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { UpdateProfileCommand } from "./update-profile.command.js";

@CommandHandler(UpdateProfileCommand)
export class UpdateProfileHandler implements ICommandHandler<UpdateProfileCommand, UserRecord> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: UpdateProfileCommand): Promise<UserRecord> {
    const userId = command.caller.userId;
    const user =
      command.displayName === undefined
        ? await this.ctx.userStore.getUser(userId)
        : await this.ctx.userStore.setDisplayName(userId, command.displayName);
    if (user === undefined) throw new AppError("USER_NOT_FOUND", "user not found");
    return user;
  }
}
