import { Inject } from "@nestjs/common";
import { EventsHandler, type IEventHandler } from "@nestjs/cqrs";
import { isoTime } from "../../runtime/clock.js";
import { membershipChangedRecord } from "../../runtime/events.js";
import { TOPICS } from "../../runtime/topics.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { publishLifecycle } from "./lifecycle-publisher.js";
import { MembershipChangedEvent } from "./membership-changed.event.js";

/** Publishes `MembershipChanged` to `memberships.changed`, keyed by chat id (fanout drops its cache). */
@EventsHandler(MembershipChangedEvent)
export class MembershipChangedHandler implements IEventHandler<MembershipChangedEvent> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  handle(event: MembershipChangedEvent): void {
    const record = membershipChangedRecord(
      {
        chat_id: event.chatId,
        user_id: event.userId,
        change_type: event.changeType,
        role: event.role,
        changed_by: event.changedBy,
        member_count_after: event.memberCountAfter,
        changed_at: isoTime(event.changedAt),
      },
      { eventId: this.ctx.ids.event(), producerId: this.ctx.config.nodeId, eventTime: this.ctx.clock.now() },
    );
    publishLifecycle(this.ctx, TOPICS.membershipsChanged, record);
  }
}
