import type { PublishedRecord } from "../ports/event-log.js";
import type { OffsetSource, PartitionOffsets } from "./consumer-lag.js";

/**
 * The end offsets of the in-process event log, learnt from what this process publishes. Embedded, every
 * publisher of `messages.persisted` is in this process and the log starts empty with it, so the highest
 * offset published + 1 is the log's end. (Kafka is asked instead: ./kafka-offsets.ts.)
 */
export class PublishedOffsets implements OffsetSource {
  private readonly ends = new Map<string, Map<number, bigint>>();

  /** Records the offsets the log assigned to a publish. */
  record(published: readonly PublishedRecord[]): void {
    for (const { topic, partition, offset } of published) {
      let partitions = this.ends.get(topic);
      if (partitions === undefined) {
        partitions = new Map();
        this.ends.set(topic, partitions);
      }
      const end = BigInt(offset) + 1n;
      if (end > (partitions.get(partition) ?? 0n)) partitions.set(partition, end);
    }
  }

  async offsets(topic: string): Promise<ReadonlyMap<number, PartitionOffsets>> {
    const result = new Map<number, PartitionOffsets>();
    for (const [partition, end] of this.ends.get(topic) ?? []) result.set(partition, { end, start: 0n });
    return result;
  }

  async close(): Promise<void> {}
}
