import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore, MembershipRecord } from "../../runtime/ports/chat-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { CHAT_STORE, CLOCK } from "../tokens.js";
import { MUTED_FOREVER_MS, MuteChatCommand } from "./mute-chat.command.js";

/** Any member may mute a chat, direct or group (spec §5). */
@CommandHandler(MuteChatCommand)
export class MuteChatHandler implements ICommandHandler<MuteChatCommand, MembershipRecord> {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
  ) {}

  async execute(command: MuteChatCommand): Promise<MembershipRecord> {
    const userId = command.caller.userId;
    await requireMembership(this.chatStore, command.chatId, userId);
    const until = command.unmute
      ? undefined
      : command.durationHours === null
        ? MUTED_FOREVER_MS
        : this.clock.now() + command.durationHours * 3_600_000;
    const updated = await this.chatStore.setMutedUntil(command.chatId, userId, until);
    if (updated === undefined) {
      throw new AppError("NOT_A_MEMBER", "you are not a member of this chat", {
        details: { chat_id: command.chatId },
      });
    }
    return updated;
  }
}
