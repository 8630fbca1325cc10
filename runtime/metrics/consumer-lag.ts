import type { Clock } from "../clock.js";

/** Where a partition of a topic stands in the log and, when the source knows it, in a consumer group. */
export interface PartitionOffsets {
  /** The next offset the log will assign (Kafka's high watermark). */
  readonly end: bigint;
  /** The oldest offset still held (Kafka's low watermark); a group with no commit starts here. */
  readonly start: bigint;
  /** The group's committed offset (the next one to read), when it has one. */
  readonly committed?: bigint;
}

/** Reads the offsets of one topic's partitions (Kafka's admin API, or what this process published). */
export interface OffsetSource {
  offsets(topic: string): Promise<ReadonlyMap<number, PartitionOffsets>>;
  close(): Promise<void>;
}

export interface ConsumerLagOptions {
  readonly topic: string;
  readonly source: OffsetSource;
  /** The next offset to process per partition, for the batches the local worker finished. */
  readonly positions: () => ReadonlyMap<number, string>;
  readonly clock: Clock;
  /** How long a reading is served again before the source is asked anew (scrapes stay cheap). */
  readonly cacheMs: number;
}

/**
 * The fanout group's lag per partition of `messages.persisted`: the log's end minus the next offset to
 * process, the later of the group's commit and what the local worker has finished (fresher: it commits
 * after its handler returns). Read on scrape, at most once per `cacheMs`; concurrent scrapes share a read.
 */
export class ConsumerLag {
  private cached: { readonly at: number; readonly lag: ReadonlyMap<number, number> } | undefined;
  private reading: Promise<ReadonlyMap<number, number>> | undefined;

  constructor(private readonly options: ConsumerLagOptions) {}

  read(): Promise<ReadonlyMap<number, number>> {
    const { clock, cacheMs } = this.options;
    const cached = this.cached;
    if (cached !== undefined && clock.now() - cached.at < cacheMs) return Promise.resolve(cached.lag);
    this.reading ??= this.compute()
      .then((lag) => {
        this.cached = { at: clock.now(), lag };
        return lag;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async compute(): Promise<ReadonlyMap<number, number>> {
    const offsets = await this.options.source.offsets(this.options.topic);
    const processed = this.options.positions();
    const lag = new Map<number, number>();
    for (const [partition, { end, start, committed }] of offsets) {
      let next = committed !== undefined && committed > start ? committed : start;
      const local = processed.get(partition);
      if (local !== undefined && BigInt(local) > next) next = BigInt(local);
      lag.set(partition, end > next ? Number(end - next) : 0);
    }
    return lag;
  }
}
