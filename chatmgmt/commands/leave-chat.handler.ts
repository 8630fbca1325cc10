import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import { requireGroup, requireMembership } from "../chats/chat-access.js";
import { MembershipRemoval } from "../chats/membership-removal.js";
import { CHAT_STORE } from "../tokens.js";
import { LeaveChatCommand } from "./leave-chat.command.js";

@CommandHandler(LeaveChatCommand)
export class LeaveChatHandler implements ICommandHandler<LeaveChatCommand, number> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MembershipRemoval) private readonly membershipRemoval: MembershipRemoval,
  ) {}

  async execute(command: LeaveChatCommand): Promise<number> {
    const caller = command.caller.userId;
    const { chat, membership } = await requireMembership(this.chatStore, command.chatId, caller);
    requireGroup(chat, "be left");
    if (membership.role === "owner") {
      throw new AppError("INVALID_OPERATION", "the owner cannot leave a group", {
        details: { your_role: "owner" },
      });
    }
    return this.membershipRemoval.remove(command.chatId, membership, caller);
  }
}
