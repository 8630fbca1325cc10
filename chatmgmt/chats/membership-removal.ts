import type { EventBus } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { ChatMgmtContext } from "../context.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";

/**
 * Removal shared by remove and leave: delete the membership only if it exists and is not the owner's, then
 * give the seat back (`member_count - 1`, never below 1), then raise `removed`. Returns the new count.
 */
export async function removeMember(
  ctx: ChatMgmtContext,
  events: EventBus,
  chatId: ChatId,
  target: MembershipRecord,
  changedBy: UserId,
): Promise<number> {
  if (!(await ctx.chatStore.removeMembership(chatId, target.userId))) {
    throw new AppError("NOT_FOUND", "the user is not a member", { details: { user_id: target.userId } });
  }
  const count =
    (await ctx.chatStore.adjustMemberCount(chatId, -1, { min: 1, max: ctx.limits.maxGroupMembers })) ??
    (await ctx.chatStore.getChat(chatId, { consistent: true }))?.memberCount ??
    0;
  events.publish(
    new MembershipChangedEvent(
      chatId,
      target.userId,
      "removed",
      target.role,
      changedBy,
      count,
      ctx.clock.now(),
    ),
  );
  return count;
}
