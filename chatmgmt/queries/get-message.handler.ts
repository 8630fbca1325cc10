import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import { toSequence } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { displayNames } from "../chats/member-names.js";
import { CHAT_STORE, MESSAGE_STORE, USER_STORE } from "../tokens.js";
import { GetMessageQuery, type SingleMessage } from "./get-message.query.js";

/** Pages read when looking a message up by id (no key path by message_id exists, spec §8.21). */
const SCAN_PAGE = 1000;
const MAX_SCAN_PAGES = 20;

@QueryHandler(GetMessageQuery)
export class GetMessageHandler implements IQueryHandler<GetMessageQuery, SingleMessage> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: GetMessageQuery): Promise<SingleMessage> {
    await requireMembership(this.chatStore, query.chatId, query.caller.userId);
    const message =
      "sequence" in query.ref
        ? await this.messageStore.getMessage(query.chatId, toSequence(query.ref.sequence))
        : await this.findById(query.ref.messageId, query);
    if (message === undefined) throw new AppError("NOT_FOUND", "message not found");
    const names = await displayNames(this.userStore, [message.senderId]);
    return { message, senderName: names.get(message.senderId) ?? null };
  }

  /**
   * Walks the history newest first, bounded: message ids are ULIDs, so once the page's oldest message is
   * older than the id's timestamp the message cannot be further back... except for clock skew between
   * writers, hence the hard page bound instead of an early stop.
   */
  private async findById(messageId: string, query: GetMessageQuery): Promise<StoredMessage | undefined> {
    let before: number | undefined;
    for (let pageIndex = 0; pageIndex < MAX_SCAN_PAGES; pageIndex++) {
      const page = await this.messageStore.readMessages(query.chatId, {
        limit: SCAN_PAGE,
        order: "desc",
        ...(before === undefined ? {} : { before }),
      });
      const found = page.find((m) => m.messageId === messageId);
      if (found !== undefined) return found;
      const oldest = page.at(-1);
      if (oldest === undefined || page.length < SCAN_PAGE) return undefined;
      before = oldest.sequence;
    }
    return undefined;
  }
}
