import type { Clock } from "../../runtime/clock.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";

export interface MembershipCacheOptions {
  /** The durability plane's strongly consistent member list: the only source the cache is filled from. */
  readonly chatStore: Pick<ChatStore, "listMembers">;
  readonly clock: Pick<Clock, "now">;
  /**
   * Longest an entry is trusted without a `memberships.changed` event: bounds how stale the cache can be if
   * an event is lost to this worker (its membership subscription was down). Spec: 300 s.
   */
  readonly ttlMs: number;
  /** Most chats kept; the least recently used one is dropped beyond it. */
  readonly maxChats: number;
}

export interface MembershipCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly invalidations: number;
  readonly evictions: number;
  readonly size: number;
}

interface Entry {
  readonly members: readonly UserId[];
  readonly loadedAt: number;
}

interface Load {
  readonly promise: Promise<readonly UserId[]>;
}

/**
 * The fanout plane's member cache (D7): chat -> members, filled only by reading the durability plane
 * (`ChatStore.listMembers`, strongly consistent) on a miss, and dropped for a chat whenever a
 * `memberships.changed` or `chats.created` event of that chat is consumed. Dropping rather than applying the
 * event keeps DynamoDB the one authority: the next message of the chat reads the committed membership, and
 * chat management commits before it publishes, so that read already sees the change.
 *
 * A read that was running when the chat was invalidated may return the old list; it answers the callers that
 * were already waiting (records consumed before the event) but is not cached, so every record consumed after
 * the event reads again.
 */
export class MembershipCache {
  private readonly entries = new Map<ChatId, Entry>();
  private readonly loads = new Map<ChatId, Load>();
  private hits = 0;
  private misses = 0;
  private invalidations = 0;
  private evictions = 0;

  constructor(private readonly options: MembershipCacheOptions) {}

  /** Members of a chat (user ids, ordered as the store lists them); rejects when the store cannot answer. */
  membersOf(chatId: ChatId): Promise<readonly UserId[]> {
    const entry = this.entries.get(chatId);
    if (entry !== undefined && this.options.clock.now() - entry.loadedAt < this.options.ttlMs) {
      this.hits++;
      // Most recently used last: Map keeps insertion order, so the first key is the eviction candidate.
      this.entries.delete(chatId);
      this.entries.set(chatId, entry);
      return Promise.resolve(entry.members);
    }
    if (entry !== undefined) this.entries.delete(chatId);
    this.misses++;
    const running = this.loads.get(chatId);
    if (running !== undefined) return running.promise;
    const loadedAt = this.options.clock.now();
    const load: { promise: Promise<readonly UserId[]> } = {
      promise: this.options.chatStore.listMembers(chatId).then(
        (memberships) => {
          const members = memberships.map((membership) => membership.userId);
          // Cached only if no invalidation came while reading (it removed this load).
          if (this.loads.get(chatId) === load) {
            this.loads.delete(chatId);
            this.store(chatId, { members, loadedAt });
          }
          return members;
        },
        (error: unknown) => {
          if (this.loads.get(chatId) === load) this.loads.delete(chatId);
          throw error;
        },
      ),
    };
    this.loads.set(chatId, load);
    return load.promise;
  }

  /** Forgets a chat's members (a membership of it changed, or it was just created). */
  invalidate(chatId: ChatId): void {
    this.invalidations++;
    this.entries.delete(chatId);
    this.loads.delete(chatId);
  }

  stats(): MembershipCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      invalidations: this.invalidations,
      evictions: this.evictions,
      size: this.entries.size,
    };
  }

  private store(chatId: ChatId, entry: Entry): void {
    this.entries.set(chatId, entry);
    while (this.entries.size > this.options.maxChats) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.evictions++;
    }
  }
}
