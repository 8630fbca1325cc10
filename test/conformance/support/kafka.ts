import { Kafka, logLevel } from "kafkajs";
import { unique } from "./platform.js";
import { waitFor } from "./wait.js";

export interface KafkaRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: Record<string, unknown>;
}

/**
 * Reads what the platform publishes, as an outside consumer would: `mark()` notes every partition's end of a
 * topic, and `records()` reads from there on with a consumer group of its own, so records of other suites on
 * the shared broker before the mark are never read.
 */
export class TopicReader {
  private readonly kafka: Kafka;

  constructor(brokers: string) {
    this.kafka = new Kafka({
      clientId: unique("conformance-"),
      brokers: brokers.split(","),
      logLevel: logLevel.NOTHING,
    });
  }

  /** Every partition's high watermark of `topic` now. */
  async mark(topic: string): Promise<Map<number, string>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((entry) => [entry.partition, entry.high]));
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Waits until consumer group `groupId` has committed, on every partition of `topic`, at least the end the
   * partition has now: everything published so far has been handled by that group (e.g. fanout's pushes
   * have been handed to the gateways).
   */
  async consumedThrough(groupId: string, topic: string, timeoutMs = 20_000): Promise<void> {
    const ends = await this.mark(topic);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const caughtUp = async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return [...ends].every(([partition, end]) => {
          const offset = committed?.partitions.find((entry) => entry.partition === partition)?.offset;
          return end === "0" || (offset !== undefined && BigInt(offset) >= BigInt(end));
        });
      };
      await waitFor(caughtUp, { timeoutMs, what: `${groupId} to consume ${topic}`, intervalMs: 100 });
    } finally {
      await admin.disconnect();
    }
  }

  /** Records of `topic` after `mark` until `done(records)` holds (or the deadline passes). */
  async records(
    topic: string,
    mark: Map<number, string>,
    done: (records: readonly KafkaRecord[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<KafkaRecord[]> {
    const consumer = this.kafka.consumer({ groupId: unique("conformance-reader-") });
    const records: KafkaRecord[] = [];
    // A seek may re-read what the consumer had fetched before it: each (partition, offset) counts once.
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const id = `${partition}:${message.offset}`;
          if (seen.has(id)) return;
          seen.add(id);
          let value: Record<string, unknown>;
          try {
            value = JSON.parse(message.value?.toString("utf8") ?? "null") as Record<string, unknown>;
          } catch {
            value = { unparseable: message.value?.toString("base64") };
          }
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString("utf8") ?? "",
            value,
          });
        },
      });
      for (const [partition, offset] of mark) consumer.seek({ topic, partition, offset });
      await waitFor(() => done(records), { timeoutMs, what: `records of ${topic}`, intervalMs: 50 });
      return records;
    } finally {
      await consumer.disconnect();
    }
  }
}
