import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { displayNames } from "../chats/member-names.js";
import { decodeMessageCursor, encodeMessageCursor } from "../chats/message-cursor.js";
import { CHAT_STORE, MESSAGE_STORE, USER_STORE } from "../tokens.js";
import { GetMessagesQuery, type MessagePage } from "./get-messages.query.js";

/**
 * Reads the messages table directly: stored sequences have no gaps (D3), so a page never shows a sequence
 * above one still in flight. One item more than the page is read to know whether more exist.
 */
@QueryHandler(GetMessagesQuery)
export class GetMessagesHandler implements IQueryHandler<GetMessagesQuery, MessagePage> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: GetMessagesQuery): Promise<MessagePage> {
    const { page, chatId } = query;
    await requireMembership(this.chatStore, chatId, query.caller.userId);
    let direction = page.direction;
    let after = page.afterSequence;
    let before = page.beforeSequence;
    if (page.cursor !== undefined) {
      if (after !== undefined || before !== undefined) {
        throw new AppError(
          "VALIDATION_ERROR",
          "cursor cannot be combined with before_sequence or after_sequence",
          {
            details: {
              field_errors: [{ field: "cursor", code: "INVALID_VALUE", message: "combined with a bound" }],
            },
          },
        );
      }
      const cursor = decodeMessageCursor(chatId, page.cursor);
      direction = cursor.direction;
      if (direction === "forward") {
        after = cursor.sequence;
        before = cursor.bound;
      } else {
        before = cursor.sequence;
        after = cursor.bound;
      }
    }
    if (after !== undefined && before !== undefined && before <= after + 1) {
      return { messages: [], senderNames: new Map(), hasMore: false, nextCursor: null };
    }
    const read = await this.messageStore.readMessages(chatId, {
      limit: page.limit + 1,
      order: direction === "forward" ? "asc" : "desc",
      ...(after === undefined ? {} : { after }),
      ...(before === undefined ? {} : { before }),
    });
    const messages = read.slice(0, page.limit);
    const hasMore = read.length > page.limit;
    const last = messages.at(-1);
    const bound = direction === "forward" ? before : after;
    const nextCursor =
      hasMore && last !== undefined
        ? encodeMessageCursor(chatId, {
            sequence: last.sequence,
            direction,
            ...(bound === undefined ? {} : { bound }),
          })
        : null;
    const senderNames = await displayNames(
      this.userStore,
      messages.map((m) => m.senderId),
    );
    return { messages, senderNames, hasMore, nextCursor };
  }
}
