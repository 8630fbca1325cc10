import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";

/**
 * Membership checks of every sequencer of one node, coalesced: a check is sent at once when fewer than
 * `maxInFlight` reads are running, otherwise it waits for the next one, which carries every check queued
 * meanwhile (one BatchGetItem instead of one GetItem each). Each read is strongly consistent and starts
 * after the checks it carries were asked for, so a removal that returned before a send began is always
 * seen by that send's check (ARCHITECTURE.md §6, invariant 6).
 */
interface Check {
  readonly chatId: ChatId;
  readonly userId: UserId;
  resolve(isMember: boolean): void;
  reject(error: unknown): void;
}

export class MembershipReader {
  private queue: Check[] = [];
  private inFlight = 0;

  constructor(
    private readonly chatStore: ChatStore,
    private readonly maxInFlight = 2,
    /** Keys per read; DynamoDB's BatchGetItem takes 100. */
    private readonly maxBatch = 100,
  ) {}

  isMember(chatId: ChatId, userId: UserId): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ chatId, userId, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.chatStore
        .getMemberships(batch.map(({ chatId, userId }) => ({ chatId, userId })))
        .then(
          (found) => {
            const members = new Set(found.map((membership) => `${membership.chatId}/${membership.userId}`));
            for (const check of batch) check.resolve(members.has(`${check.chatId}/${check.userId}`));
          },
          (error: unknown) => {
            for (const check of batch) check.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
