import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import { CoalescedReads } from "./coalesced-reads.js";

/**
 * Membership checks of every sequencer of one node, coalesced into shared BatchGetItem reads. Each read is
 * strongly consistent and starts after the checks it carries were asked for, so a removal that returned
 * before a send began is always seen by that send's check (ARCHITECTURE.md §6, invariant 6).
 */
interface MembershipKey {
  readonly chatId: ChatId;
  readonly userId: UserId;
}

export class MembershipReader {
  private readonly reads: CoalescedReads<MembershipKey, boolean>;

  constructor(chatStore: ChatStore, maxInFlight = 2, maxBatch = 100) {
    this.reads = new CoalescedReads(
      async (keys) => {
        const found = await chatStore.getMemberships(keys);
        const members = new Set(found.map((membership) => `${membership.chatId}/${membership.userId}`));
        return keys.map((key) => members.has(`${key.chatId}/${key.userId}`));
      },
      maxInFlight,
      maxBatch,
    );
  }

  isMember(chatId: ChatId, userId: UserId): Promise<boolean> {
    return this.reads.read({ chatId, userId });
  }
}
