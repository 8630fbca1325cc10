import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { displayNames } from "../chats/member-names.js";
import { CHAT_STORE, MESSAGE_STORE, USER_STORE } from "../tokens.js";
import { GetMessagesAroundQuery, type MessagesAround } from "./get-messages-around.query.js";

@QueryHandler(GetMessagesAroundQuery)
export class GetMessagesAroundHandler implements IQueryHandler<GetMessagesAroundQuery, MessagesAround> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: GetMessagesAroundQuery): Promise<MessagesAround> {
    const { chatId, sequence, context } = query;
    await requireMembership(this.chatStore, chatId, query.caller.userId);
    const [earlier, later] = await Promise.all([
      // The target itself is the first of the descending read.
      this.messageStore.readMessages(chatId, { before: sequence + 1, limit: context + 2, order: "desc" }),
      this.messageStore.readMessages(chatId, { after: sequence, limit: context + 1, order: "asc" }),
    ]);
    if (earlier[0]?.sequence !== sequence) {
      throw new AppError("NOT_FOUND", "no message with this sequence", { details: { sequence } });
    }
    const before = earlier.slice(1, context + 1).reverse();
    const after = later.slice(0, context);
    const messages = [...before, earlier[0], ...after];
    const senderNames = await displayNames(
      this.userStore,
      messages.map((m) => m.senderId),
    );
    return {
      targetSequence: sequence,
      messages,
      senderNames,
      hasMoreBefore: earlier.length > context + 1,
      hasMoreAfter: later.length > context,
    };
  }
}
