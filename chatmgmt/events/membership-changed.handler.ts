import { Inject } from "@nestjs/common";
import { EventsHandler, type IEventHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { isoTime } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { membershipChangedRecord } from "../../runtime/events.js";
import type { IdFactory } from "../../runtime/ids.js";
import { TOPICS } from "../../runtime/topics.js";
import { LifecyclePublisher } from "../events/lifecycle-publisher.js";
import { CLOCK, CONFIG, IDS } from "../tokens.js";
import { MembershipChangedEvent } from "./membership-changed.event.js";

/** Publishes `MembershipChanged` to `memberships.changed`, keyed by chat id (fanout drops its cache). */
@EventsHandler(MembershipChangedEvent)
export class MembershipChangedHandler implements IEventHandler<MembershipChangedEvent> {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: IdFactory,
    @Inject(LifecyclePublisher) private readonly lifecycle: LifecyclePublisher,
  ) {}

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
      { eventId: this.ids.event(), producerId: this.config.nodeId, eventTime: this.clock.now() },
    );
    this.lifecycle.publish(TOPICS.membershipsChanged, record);
  }
}
