import type { ChatId } from "../../runtime/ids.js";
import type { IdempotencyRecord, MessageStore } from "../../runtime/ports/message-store.js";
import { CoalescedReads } from "./coalesced-reads.js";

/**
 * D16: the index lookups of every sequencer of one node, coalesced into shared strongly consistent
 * BatchGetItem reads of `idempotency_keys`. A send whose client_message_id a sequencer does not hold in memory
 * is looked up here before it may join a block; absent means absent (rule 4: the read is consistent and the
 * adapter re-reads UnprocessedKeys).
 */
interface IndexLookup {
  readonly chatId: ChatId;
  readonly clientMessageId: string;
}

const keyOf = (chatId: string, clientMessageId: string): string => `${chatId}\u0000${clientMessageId}`;

export class IndexReader {
  private readonly reads: CoalescedReads<IndexLookup, IdempotencyRecord | undefined>;

  constructor(store: MessageStore, maxInFlight = 2, maxBatch = 100) {
    this.reads = new CoalescedReads(
      async (keys) => {
        const found = await store.getIndexRecords(keys);
        const byKey = new Map(found.map((record) => [keyOf(record.chatId, record.clientMessageId), record]));
        return keys.map((key) => byKey.get(keyOf(key.chatId, key.clientMessageId)));
      },
      maxInFlight,
      maxBatch,
    );
  }

  lookup(chatId: ChatId, clientMessageId: string): Promise<IdempotencyRecord | undefined> {
    return this.reads.read({ chatId, clientMessageId });
  }
}
