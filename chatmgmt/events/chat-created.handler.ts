import { Inject } from "@nestjs/common";
import { EventsHandler, type IEventHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { isoTime } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { chatCreatedRecord } from "../../runtime/events.js";
import type { IdFactory } from "../../runtime/ids.js";
import { TOPICS } from "../../runtime/topics.js";
import { LifecyclePublisher } from "../events/lifecycle-publisher.js";
import { CLOCK, CONFIG, IDS } from "../tokens.js";
import { ChatCreatedEvent } from "./chat-created.event.js";

/** Publishes `ChatCreated` to `chats.created`, keyed by chat id. */
@EventsHandler(ChatCreatedEvent)
export class ChatCreatedHandler implements IEventHandler<ChatCreatedEvent> {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDS) private readonly ids: IdFactory,
    @Inject(LifecyclePublisher) private readonly lifecycle: LifecyclePublisher,
  ) {}

  handle(event: ChatCreatedEvent): void {
    const { chat } = event;
    const record = chatCreatedRecord(
      {
        chat_id: chat.chatId,
        chat_type: chat.chatType,
        name: chat.name,
        status: chat.status,
        created_by: chat.createdBy,
        member_count: chat.memberCount,
        initial_members: event.initialMembers,
        created_at: isoTime(chat.createdAt),
      },
      { eventId: this.ids.event(), producerId: this.config.nodeId, eventTime: this.clock.now() },
    );
    this.lifecycle.publish(TOPICS.chatsCreated, record);
  }
}
