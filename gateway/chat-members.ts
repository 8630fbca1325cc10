import { MembershipCache } from "../actors/fanout/membership-cache.js";
import type { Clock } from "../runtime/clock.js";
import { AppError } from "../runtime/errors.js";
import { decodeEnvelope } from "../runtime/events.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { ChatStore } from "../runtime/ports/chat-store.js";
import type { EventLog, Subscription } from "../runtime/ports/event-log.js";
import { TOPICS } from "../runtime/topics.js";

export interface ChatMembersOptions {
  /** The strongly consistent member list of the durability plane's storage (the only source). */
  readonly chatStore: Pick<ChatStore, "listMembers">;
  readonly clock: Pick<Clock, "now">;
}

/**
 * How long a member list is trusted without a `memberships.changed` event (as the ingest gate trusts a
 * member): bounds how long a removed member still sees indicators when this gateway missed the event.
 */
const MEMBERS_TTL_MS = 60_000;
/** Chats whose members a gateway keeps; the least recently used go beyond it. */
const MAX_CHATS = 10_000;
/**
 * A sender missing from a cached list is looked up again at most this often per chat: a user added a moment
 * ago is refused for at most this long even if the event never comes, and a non-member repeating frames costs
 * one read per chat per period.
 */
const RECHECK_MS = 2_000;

/**
 * The members of chats, for the typing indicators of this gateway's users (and later presence): who may send
 * one to a chat and who receives it. A bounded, TTL'd cache over `ChatStore.listMembers` (the fanout plane's
 * MembershipCache), dropped per chat when a `memberships.changed` or `chats.created` event of it arrives. The
 * list is only trusted to decide who sees an ephemeral frame; nothing durable depends on it.
 */
export class ChatMembers {
  private readonly cache: MembershipCache;
  private readonly rechecked = new Map<ChatId, number>();

  constructor(private readonly options: ChatMembersOptions) {
    this.cache = new MembershipCache({
      chatStore: options.chatStore,
      clock: options.clock,
      ttlMs: MEMBERS_TTL_MS,
      maxChats: MAX_CHATS,
    });
  }

  /**
   * The chat's members when `userId` is one of them; otherwise the refusal the protocol gives a request for
   * it: NOT_FOUND for a chat without members (it does not exist: an owner is never removed), NOT_A_MEMBER
   * otherwise. Rejects when storage cannot answer.
   */
  async membersFor(chatId: ChatId, userId: UserId): Promise<readonly UserId[] | AppError> {
    const misses = this.cache.stats().misses;
    const pending = this.cache.membersOf(chatId);
    // A list read just now (a miss, counted synchronously) is not read again.
    const cached = this.cache.stats().misses === misses;
    let members = await pending;
    if (!members.includes(userId) && cached && this.mayRecheck(chatId)) {
      this.cache.invalidate(chatId);
      members = await this.cache.membersOf(chatId);
    }
    if (members.includes(userId)) return members;
    return members.length === 0
      ? new AppError("NOT_FOUND", "chat not found", { details: { chat_id: chatId } })
      : new AppError("NOT_A_MEMBER", "not a member of this chat", { details: { chat_id: chatId } });
  }

  invalidate(chatId: ChatId): void {
    this.cache.invalidate(chatId);
    this.rechecked.delete(chatId);
  }

  /**
   * Follows `memberships.changed` and `chats.created` with a consumer group of this gateway's own (every
   * gateway must see every event), from the events published after it started.
   */
  follow(eventLog: EventLog, nodeId: string, logger: Logger): Promise<Subscription> {
    return eventLog.subscribe({
      groupId: `gateway-members.${nodeId}`,
      topics: [TOPICS.membershipsChanged, TOPICS.chatsCreated],
      fromBeginning: false,
      handle: async (batch) => {
        for (const record of batch.records) {
          let chatId: string;
          try {
            chatId = decodeEnvelope(record.value).partition_key;
          } catch {
            // A record that is not an event says nothing about a chat; its key still names one.
            chatId = record.key;
          }
          this.invalidate(chatId as ChatId);
        }
      },
      onHandlerError: (error) => logger.warn({ err: error }, "gateway member cache event handling failed"),
    });
  }

  private mayRecheck(chatId: ChatId): boolean {
    const now = this.options.clock.now();
    const last = this.rechecked.get(chatId);
    if (last !== undefined && now - last < RECHECK_MS) return false;
    // Bounded like the cache: a client cycling through made-up chat ids cannot grow it.
    if (this.rechecked.size >= MAX_CHATS) this.rechecked.clear();
    this.rechecked.set(chatId, now);
    return true;
  }
}
