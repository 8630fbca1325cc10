import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { MembershipRecord } from "../../runtime/ports/chat-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { MUTED_FOREVER_MS, MuteChatCommand } from "./mute-chat.command.js";

/** Any member may mute a chat, direct or group (spec §5). */
@CommandHandler(MuteChatCommand)
export class MuteChatHandler implements ICommandHandler<MuteChatCommand, MembershipRecord> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: MuteChatCommand): Promise<MembershipRecord> {
    const userId = command.caller.userId;
    await requireMembership(this.ctx.chatStore, command.chatId, userId);
    const until = command.unmute
      ? undefined
      : command.durationHours === null
        ? MUTED_FOREVER_MS
        : this.ctx.clock.now() + command.durationHours * 3_600_000;
    const updated = await this.ctx.chatStore.setMutedUntil(command.chatId, userId, until);
    if (updated === undefined) {
      throw new AppError("NOT_A_MEMBER", "you are not a member of this chat", {
        details: { chat_id: command.chatId },
      });
    }
    return updated;
  }
}
