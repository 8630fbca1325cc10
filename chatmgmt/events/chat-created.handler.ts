import { Inject } from "@nestjs/common";
import { EventsHandler, type IEventHandler } from "@nestjs/cqrs";
import { isoTime } from "../../runtime/clock.js";
import { chatCreatedRecord } from "../../runtime/events.js";
import { TOPICS } from "../../runtime/topics.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { ChatCreatedEvent } from "./chat-created.event.js";
import { publishLifecycle } from "./lifecycle-publisher.js";

/** Publishes `ChatCreated` to `chats.created`, keyed by chat id. */
@EventsHandler(ChatCreatedEvent)
export class ChatCreatedHandler implements IEventHandler<ChatCreatedEvent> {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

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
      { eventId: this.ctx.ids.event(), producerId: this.ctx.config.nodeId, eventTime: this.ctx.clock.now() },
    );
    publishLifecycle(this.ctx, TOPICS.chatsCreated, record);
  }
}
