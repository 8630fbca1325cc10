import type { IdempotencyRecord, MessageStore } from "../../runtime/ports/message-store.js";

/**
 * D16: the index writes of every sequencer of one node, batched across chats: the records of whatever blocks
 * were committed while the previous write was in flight go out together (BatchWriteItem, 25 per request, up
 * to `maxRecords` per call). Off the ack path: a sequencer acknowledges when its block is stored and moves
 * `indexed_through` only once the write of that block's records resolved (the adapter resends
 * UnprocessedItems and resolves only when every record is stored).
 */
interface Submission {
  readonly records: readonly IdempotencyRecord[];
  resolve(): void;
  reject(error: unknown): void;
}

export class IndexWriter {
  private queue: Submission[] = [];
  private inFlight = 0;

  constructor(
    private readonly store: Pick<MessageStore, "putIndexRecords">,
    private readonly maxInFlight = 4,
    private readonly maxRecords = 100,
  ) {}

  /** Resolves once every record is stored; rejects when storage refused (the caller retries later). */
  write(records: readonly IdempotencyRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Submission[] = [];
      let size = 0;
      while (
        this.queue.length > 0 &&
        (batch.length === 0 || size + (this.queue[0]?.records.length ?? 0) <= this.maxRecords)
      ) {
        const next = this.queue.shift() as Submission;
        batch.push(next);
        size += next.records.length;
      }
      this.inFlight++;
      this.store
        .putIndexRecords(batch.flatMap((submission) => submission.records))
        .then(
          () => {
            for (const submission of batch) submission.resolve();
          },
          (error: unknown) => {
            for (const submission of batch) submission.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
