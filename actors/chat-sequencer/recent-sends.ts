import type { MessageId, Sequence } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";

/**
 * The in-memory half of dedup (D2): the last `limit` client_message_ids this sequencer saw stored, so a quick
 * retry is answered without a read. Only confirmed writes enter it; messages never change, so an entry can
 * never be wrong, only evicted (then the idempotency item answers).
 */
export interface RecentSend {
  readonly messageId: MessageId;
  readonly sequence: Sequence;
  readonly createdAt: number;
}

export class RecentSends {
  private readonly entries = new Map<string, RecentSend>();

  constructor(private readonly limit: number) {}

  get(clientMessageId: string): RecentSend | undefined {
    return this.entries.get(clientMessageId);
  }

  remember(message: StoredMessage): void {
    this.entries.delete(message.clientMessageId);
    this.entries.set(message.clientMessageId, {
      messageId: message.messageId,
      sequence: message.sequence,
      createdAt: message.createdAt,
    });
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
