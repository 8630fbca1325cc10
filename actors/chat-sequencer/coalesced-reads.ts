/**
 * Reads of every sequencer of one node, coalesced: keys asked for in one turn of the event loop's microtask
 * queue leave together (a sequencer asks for a whole batch's keys in one synchronous loop), at once when
 * fewer than `maxInFlight` reads are running, otherwise with the next read, which carries every key queued
 * meanwhile (one BatchGetItem instead of one GetItem each). Each read starts after the keys it carries were
 * asked for, so a strongly consistent read sees every write that returned before its key was asked for.
 */
interface Waiting<K, V> {
  readonly key: K;
  resolve(value: V): void;
  reject(error: unknown): void;
}

export class CoalescedReads<K, V> {
  private queue: Waiting<K, V>[] = [];
  private inFlight = 0;
  private pumpScheduled = false;

  constructor(
    /** Reads many keys at once; answers each key (in order of `keys`). */
    private readonly readMany: (keys: readonly K[]) => Promise<readonly V[]>,
    private readonly maxInFlight = 2,
    /** Keys per read; DynamoDB's BatchGetItem takes 100. */
    private readonly maxBatch = 100,
  ) {}

  read(key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      // Sent once the caller's synchronous loop is done: its first key must not leave alone, taking a slot
      // the rest of its batch then waits for.
      if (this.pumpScheduled) return;
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    });
  }

  /** Reads outstanding or queued; D16 rule 5 prunes memory only while none of a sequencer's is. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.readMany(batch.map((waiting) => waiting.key))
        .then(
          (values) => {
            batch.forEach((waiting, index) => {
              waiting.resolve(values[index] as V);
            });
          },
          (error: unknown) => {
            for (const waiting of batch) waiting.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
