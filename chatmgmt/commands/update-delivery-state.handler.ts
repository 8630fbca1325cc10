import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import { requireMembership } from "../chats/chat-access.js";
import { currentSequence } from "../chats/chat-tail.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { type DeliveryStateResult, UpdateDeliveryStateCommand } from "./update-delivery-state.command.js";

/** The same monotonic conditional write as the durability plane's acks (D8); a lower value is a no-op. */
@CommandHandler(UpdateDeliveryStateCommand)
export class UpdateDeliveryStateHandler
  implements ICommandHandler<UpdateDeliveryStateCommand, DeliveryStateResult>
{
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async execute(command: UpdateDeliveryStateCommand): Promise<DeliveryStateResult> {
    const userId = command.caller.userId;
    await requireMembership(this.ctx.chatStore, command.chatId, userId);
    const tail = await currentSequence(this.ctx.messageStore, command.chatId);
    if (command.lastAckedSequence > tail) {
      throw new AppError("UNPROCESSABLE_ENTITY", "last_acked_sequence is above the chat's current sequence", {
        details: { current_sequence: tail, last_acked_sequence: command.lastAckedSequence },
      });
    }
    await this.ctx.messageStore.advanceDeliveryState(userId, command.chatId, command.lastAckedSequence);
    const state = await this.ctx.messageStore.getDeliveryState(userId, command.chatId);
    return {
      lastAckedSequence: state?.lastAckedSequence ?? command.lastAckedSequence,
      updatedAt: state?.updatedAt ?? this.ctx.clock.now(),
    };
  }
}
