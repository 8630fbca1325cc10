import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { currentSequence } from "../chats/chat-tail.js";
import { CHAT_STORE, CLOCK, MESSAGE_STORE } from "../tokens.js";
import { type DeliveryStateResult, UpdateDeliveryStateCommand } from "./update-delivery-state.command.js";

/** The same monotonic conditional write as the durability plane's acks (D8); a lower value is a no-op. */
@CommandHandler(UpdateDeliveryStateCommand)
export class UpdateDeliveryStateHandler
  implements ICommandHandler<UpdateDeliveryStateCommand, DeliveryStateResult>
{
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
  ) {}

  async execute(command: UpdateDeliveryStateCommand): Promise<DeliveryStateResult> {
    const userId = command.caller.userId;
    await requireMembership(this.chatStore, command.chatId, userId);
    const tail = await currentSequence(this.messageStore, command.chatId);
    if (command.lastAckedSequence > tail) {
      throw new AppError("UNPROCESSABLE_ENTITY", "last_acked_sequence is above the chat's current sequence", {
        details: { current_sequence: tail, last_acked_sequence: command.lastAckedSequence },
      });
    }
    await this.messageStore.advanceDeliveryState(userId, command.chatId, command.lastAckedSequence);
    const state = await this.messageStore.getDeliveryState(userId, command.chatId);
    return {
      lastAckedSequence: state?.lastAckedSequence ?? command.lastAckedSequence,
      updatedAt: state?.updatedAt ?? this.clock.now(),
    };
  }
}
