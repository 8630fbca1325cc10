import { Inject } from "@nestjs/common";
import { CommandHandler, EventBus, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import { requireGroup, requireMembership } from "../chats/chat-access.js";
import { removeMember } from "../chats/membership-removal.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { LeaveChatCommand } from "./leave-chat.command.js";

@CommandHandler(LeaveChatCommand)
export class LeaveChatHandler implements ICommandHandler<LeaveChatCommand, number> {
  constructor(
    @Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  async execute(command: LeaveChatCommand): Promise<number> {
    const caller = command.caller.userId;
    const { chat, membership } = await requireMembership(this.ctx.chatStore, command.chatId, caller);
    requireGroup(chat, "be left");
    if (membership.role === "owner") {
      throw new AppError("INVALID_OPERATION", "the owner cannot leave a group", {
        details: { your_role: "owner" },
      });
    }
    return removeMember(this.ctx, this.events, command.chatId, membership, caller);
  }
}
