import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatRecord, ChatStore } from "../../runtime/ports/chat-store.js";
import { requireChat, requireGroup, requireMembership, requireRole } from "../chats/chat-access.js";
import { CHAT_STORE } from "../tokens.js";
import { RenameChatCommand } from "./rename-chat.command.js";

@CommandHandler(RenameChatCommand)
export class RenameChatHandler implements ICommandHandler<RenameChatCommand, ChatRecord> {
  constructor(@Inject(CHAT_STORE) private readonly chatStore: ChatStore) {}

  async execute(command: RenameChatCommand): Promise<ChatRecord> {
    const { chat, membership } = await requireMembership(
      this.chatStore,
      command.chatId,
      command.caller.userId,
    );
    requireGroup(chat, "be renamed");
    requireRole(membership, ["owner", "admin"]);
    if (!(await this.chatStore.renameChat(command.chatId, command.name))) {
      throw new AppError("NOT_FOUND", "chat not found", { details: { chat_id: command.chatId } });
    }
    return requireChat(this.chatStore, command.chatId);
  }
}
