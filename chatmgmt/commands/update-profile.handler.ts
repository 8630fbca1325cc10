import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { UserRecord, UserStore } from "../../runtime/ports/user-store.js";
import { USER_STORE } from "../tokens.js";
import { UpdateProfileCommand } from "./update-profile.command.js";

@CommandHandler(UpdateProfileCommand)
export class UpdateProfileHandler implements ICommandHandler<UpdateProfileCommand, UserRecord> {
  constructor(@Inject(USER_STORE) private readonly userStore: UserStore) {}

  async execute(command: UpdateProfileCommand): Promise<UserRecord> {
    const userId = command.caller.userId;
    const user =
      command.displayName === undefined
        ? await this.userStore.getUser(userId)
        : await this.userStore.setDisplayName(userId, command.displayName);
    if (user === undefined) throw new AppError("USER_NOT_FOUND", "user not found");
    return user;
  }
}
