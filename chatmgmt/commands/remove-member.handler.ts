import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import { requireGroup, requireMembership } from "../chats/chat-access.js";
import { MembershipRemoval } from "../chats/membership-removal.js";
import { CHAT_STORE } from "../tokens.js";
import { RemoveMemberCommand } from "./remove-member.command.js";

@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand, number> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MembershipRemoval) private readonly membershipRemoval: MembershipRemoval,
  ) {}

  async execute(command: RemoveMemberCommand): Promise<number> {
    const caller = command.caller.userId;
    if (command.userId === caller) {
      throw new AppError("INVALID_OPERATION", "use POST /chats/{id}/leave to leave a chat");
    }
    const { chat, membership } = await requireMembership(this.chatStore, command.chatId, caller);
    requireGroup(chat, "lose members");
    const target = await this.chatStore.getMembership(command.chatId, command.userId);
    if (target === undefined) {
      throw new AppError("NOT_FOUND", "the user is not a member", { details: { user_id: command.userId } });
    }
    const allowed =
      target.role !== "owner" &&
      (membership.role === "owner" || (membership.role === "admin" && target.role === "member"));
    if (!allowed) {
      throw new AppError("FORBIDDEN", "your role does not allow removing this member", {
        details: { required_role: target.role === "member" ? "admin" : "owner", your_role: membership.role },
      });
    }
    return this.membershipRemoval.remove(command.chatId, target, caller);
  }
}
