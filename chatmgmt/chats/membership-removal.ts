import { Inject, Injectable } from "@nestjs/common";
import { EventBus } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatStore, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { AuthLimits } from "../context.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";
import { AUTH_LIMITS, CHAT_STORE, CLOCK } from "../tokens.js";

@Injectable()
export class MembershipRemoval {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Removal shared by remove and leave: delete the membership only if it exists and is not the owner's, then
   * give the seat back (`member_count - 1`, never below 1), then raise `removed`. Returns the new count.
   */
  async remove(chatId: ChatId, target: MembershipRecord, changedBy: UserId): Promise<number> {
    if (!(await this.chatStore.removeMembership(chatId, target.userId))) {
      throw new AppError("NOT_FOUND", "the user is not a member", { details: { user_id: target.userId } });
    }
    const count =
      (await this.chatStore.adjustMemberCount(chatId, -1, { min: 1, max: this.limits.maxGroupMembers })) ??
      (await this.chatStore.getChat(chatId, { consistent: true }))?.memberCount ??
      0;
    this.events.publish(
      new MembershipChangedEvent(
        chatId,
        target.userId,
        "removed",
        target.role,
        changedBy,
        count,
        this.clock.now(),
      ),
    );
    return count;
  }
}
