import { Inject } from "@nestjs/common";
import { type IQueryHandler, QueryHandler } from "@nestjs/cqrs";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireMembership } from "../chats/chat-access.js";
import { currentSequence } from "../chats/chat-tail.js";
import { displayNames } from "../chats/member-names.js";
import { CHAT_STORE, MESSAGE_STORE, USER_STORE } from "../tokens.js";
import { type ChatDetail, GetChatQuery } from "./get-chat.query.js";

@QueryHandler(GetChatQuery)
export class GetChatHandler implements IQueryHandler<GetChatQuery, ChatDetail> {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(MESSAGE_STORE) private readonly messageStore: MessageStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
  ) {}

  async execute(query: GetChatQuery): Promise<ChatDetail> {
    const userId = query.caller.userId;
    const { chat, membership } = await requireMembership(this.chatStore, query.chatId, userId);
    const [members, tail] = await Promise.all([
      this.chatStore.listMembers(query.chatId),
      currentSequence(this.messageStore, query.chatId),
    ]);
    // Every member's delivery state (groups have at most 100 members): a sender's "delivered" tick.
    const [names, states] = await Promise.all([
      displayNames(
        this.userStore,
        members.map((m) => m.userId),
      ),
      Promise.all(members.map((m) => this.messageStore.getDeliveryState(m.userId, query.chatId))),
    ]);
    const acked = new Map(states.flatMap((s) => (s === undefined ? [] : [[s.userId, s.lastAckedSequence]])));
    return {
      chat,
      members: members.map((m) => ({
        membership: m,
        displayName: names.get(m.userId) ?? null,
        lastAckedSequence: acked.get(m.userId) ?? 0,
      })),
      myMembership: membership,
      currentSequence: tail,
      lastAckedSequence: acked.get(userId) ?? 0,
    };
  }
}
