import { Inject } from "@nestjs/common";
import { CommandHandler, EventBus, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore, MembershipRecord } from "../../runtime/ports/chat-store.js";
import { requireGroup, requireMembership, requireRole } from "../chats/chat-access.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";
import { CHAT_STORE } from "../tokens.js";
import { SetMemberRoleCommand } from "./set-member-role.command.js";

@CommandHandler(SetMemberRoleCommand)
export class SetMemberRoleHandler implements ICommandHandler<SetMemberRoleCommand, MembershipRecord> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  async execute(command: SetMemberRoleCommand): Promise<MembershipRecord> {
    const caller = command.caller.userId;
    if (command.userId === caller) throw new AppError("INVALID_OPERATION", "you cannot change your own role");
    const { chat, membership } = await requireMembership(this.chatStore, command.chatId, caller);
    requireGroup(chat, "have roles");
    requireRole(membership, ["owner"]);
    if (!(await this.chatStore.setMemberRole(command.chatId, command.userId, command.role))) {
      throw new AppError("NOT_FOUND", "the user is not a member", { details: { user_id: command.userId } });
    }
    const updated = await this.chatStore.getMembership(command.chatId, command.userId);
    if (updated === undefined) {
      throw new AppError("NOT_FOUND", "the user is not a member", { details: { user_id: command.userId } });
    }
    this.events.publish(
      new MembershipChangedEvent(
        command.chatId,
        command.userId,
        "role_changed",
        updated.role,
        caller,
        chat.memberCount,
        updated.updatedAt,
      ),
    );
    return updated;
  }
}
