import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { currentSequence } from "../chats/chat-tail.js";
import { MESSAGE_STORE } from "../tokens.js";
import { GetCurrentSequenceQuery } from "./get-current-sequence.query.js";

@QueryHandler(GetCurrentSequenceQuery)
export class GetCurrentSequenceHandler implements IQueryHandler<GetCurrentSequenceQuery, number> {
  constructor(@Inject(MESSAGE_STORE) private readonly messageStore: MessageStore) {}

  execute(query: GetCurrentSequenceQuery): Promise<number> {
    return currentSequence(this.messageStore, query.chatId);
  }
}
