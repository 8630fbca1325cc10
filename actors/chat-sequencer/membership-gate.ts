import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import { decodeEnvelope } from "../../runtime/events.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog, Subscription } from "../../runtime/ports/event-log.js";
import { TOPICS } from "../../runtime/topics.js";
import type { MembershipReader } from "./membership-reader.js";

export interface MembershipGateOptions {
  /** The node's coalesced, strongly consistent membership reads (shared with the sequencers). */
  readonly memberships: MembershipReader;
  /** Tells a missing chat (NOT_FOUND) from a non-member (NOT_A_MEMBER), as the sequencer does. */
  readonly chatStore: Pick<ChatStore, "getChat">;
  readonly clock: Pick<Clock, "now">;
  /** How long "is a member" is trusted: it only lets a request reach the sequencer, which checks again. */
  readonly memberTtlMs: number;
  /**
   * How long "is not a member" is trusted without a `memberships.changed` event. Short: a refusal tells the
   * client to drop the chat (protocol §6), so a user added a moment ago must not be refused for long.
   */
  readonly nonMemberTtlMs: number;
  /** Most (chat, user) answers kept; the oldest are dropped beyond it. */
  readonly maxEntries: number;
}

export const MEMBERSHIP_GATE_DEFAULTS = {
  memberTtlMs: 60_000,
  nonMemberTtlMs: 2_000,
  maxEntries: 100_000,
} as const;

interface Entry {
  /** Undefined for a member; the refusal to repeat for a non-member. */
  readonly refusal: AppError | undefined;
  readonly checkedAt: number;
}

/**
 * The durability plane's membership check in front of actor activation: a request for a chat its user is not
 * a member of is refused here, before `ActorHost.ask` creates a sequencer (whose activation writes a marker
 * and reads the chat's counters and tail, and which then lives until it idles out). Without it, a flood of
 * made-up chat ids would grow the node's actors and its storage writes.
 *
 * Answers are cached per (chat, user) for a short time, members and non-members alike, in a map bounded by
 * `maxEntries`; a miss is one strongly consistent read through the node's MembershipReader (coalesced with
 * the sequencers' own). A chat's answers are dropped when a `memberships.changed` or `chats.created` event of
 * it is consumed. Safety does not rest on the cache: the sequencer still checks every request strongly
 * (invariant 6), so a stale "member" only lets a request reach it; a stale "non-member" is bounded by
 * `nonMemberTtlMs` and the event.
 */
export class MembershipGate {
  private readonly entries = new Map<string, Entry>();
  /** The keys of each chat's entries, so an event drops them all. */
  private readonly byChat = new Map<ChatId, Set<string>>();
  private generation = 0;

  constructor(private readonly options: MembershipGateOptions) {}

  /** Resolves when `userId` may reach the chat's sequencer; rejects NOT_A_MEMBER or NOT_FOUND otherwise. */
  async admit(chatId: ChatId, userId: UserId): Promise<void> {
    const key = `${chatId}/${userId}`;
    const now = this.options.clock.now();
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      const ttl = entry.refusal === undefined ? this.options.memberTtlMs : this.options.nonMemberTtlMs;
      if (now - entry.checkedAt < ttl) {
        if (entry.refusal !== undefined) throw entry.refusal;
        return;
      }
      this.forget(key, chatId);
    }
    const generation = this.generation;
    const member = await this.options.memberships.isMember(chatId, userId);
    const refusal = member ? undefined : await this.refusalFor(chatId);
    // An invalidation while reading may have made this answer stale: it answers this request only.
    if (generation === this.generation) this.remember(key, chatId, { refusal, checkedAt: now });
    if (refusal !== undefined) throw refusal;
  }

  /** Drops every cached answer of a chat (a membership of it changed, or it was created). */
  invalidate(chatId: ChatId): void {
    this.generation++;
    const keys = this.byChat.get(chatId);
    if (keys === undefined) return;
    for (const key of keys) this.entries.delete(key);
    this.byChat.delete(chatId);
  }

  /** Cached answers held now (bounded by `maxEntries`). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Follows `memberships.changed` and `chats.created` with a consumer group of this node's own (every node
   * must see every event), from the events published after it started, like the fanout member cache.
   */
  follow(eventLog: EventLog, nodeId: string, logger: Logger): Promise<Subscription> {
    return eventLog.subscribe({
      groupId: `ingest-membership-gate.${nodeId}`,
      topics: [TOPICS.membershipsChanged, TOPICS.chatsCreated],
      fromBeginning: false,
      handle: async (batch) => {
        for (const record of batch.records) {
          try {
            const envelope = decodeEnvelope(record.value);
            this.invalidate(envelope.partition_key as ChatId);
          } catch (error) {
            // A record that is not an event says nothing about a chat; its key still names one.
            logger.debug({ err: error, topic: record.topic }, "undecodable lifecycle record");
            this.invalidate(record.key as ChatId);
          }
        }
      },
      onHandlerError: (error) => logger.warn({ err: error }, "membership gate event handling failed"),
    });
  }

  private async refusalFor(chatId: ChatId): Promise<AppError> {
    const chat = await this.options.chatStore.getChat(chatId);
    if (chat === undefined || chat.status !== "active") {
      return new AppError("NOT_FOUND", "chat not found", { details: { chat_id: chatId } });
    }
    return new AppError("NOT_A_MEMBER", "not a member of this chat", { details: { chat_id: chatId } });
  }

  private remember(key: string, chatId: ChatId, entry: Entry): void {
    this.entries.set(key, entry);
    let keys = this.byChat.get(chatId);
    if (keys === undefined) {
      keys = new Set();
      this.byChat.set(chatId, keys);
    }
    keys.add(key);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.forget(oldest.value, oldest.value.slice(0, oldest.value.lastIndexOf("/")) as ChatId);
    }
  }

  private forget(key: string, chatId: ChatId): void {
    this.entries.delete(key);
    const keys = this.byChat.get(chatId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.byChat.delete(chatId);
  }
}
