import type { Admin } from "kafkajs";
import kafkajs from "kafkajs";
import { AppError } from "../../errors.js";
import type { OffsetSource, PartitionOffsets } from "../../metrics/consumer-lag.js";

const { Kafka, logLevel } = kafkajs;

export interface KafkaOffsetsOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** The consumer group whose commits count as processed. */
  readonly groupId: string;
}

/**
 * The adapter of OffsetSource on Kafka: one admin client of its own (connected on the first scrape, so a
 * process nobody scrapes never opens it) reading the topic's watermarks and the group's commits: two
 * requests per reading, which ./consumer-lag.ts caches.
 */
export class KafkaOffsets implements OffsetSource {
  private admin: Promise<Admin> | undefined;
  private readonly kafka: InstanceType<typeof Kafka>;

  constructor(private readonly options: KafkaOffsetsOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
  }

  async offsets(topic: string): Promise<ReadonlyMap<number, PartitionOffsets>> {
    const admin = await this.connected();
    try {
      const [watermarks, commits] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] }),
      ]);
      const committed = new Map(
        (commits.find((entry) => entry.topic === topic)?.partitions ?? [])
          // -1: the group has not committed this partition.
          .filter((entry) => Number(entry.offset) >= 0)
          .map((entry) => [entry.partition, BigInt(entry.offset)] as const),
      );
      const result = new Map<number, PartitionOffsets>();
      for (const { partition, high, low } of watermarks) {
        const commit = committed.get(partition);
        result.set(partition, {
          end: BigInt(high),
          start: BigInt(low),
          ...(commit === undefined ? {} : { committed: commit }),
        });
      }
      return result;
    } catch (error) {
      // A broken connection is dropped, so the next scrape connects again.
      this.discard();
      throw new AppError("SERVICE_UNAVAILABLE", `reading the offsets of ${topic} failed`, {
        cause: error,
        public: false,
      });
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await (await admin?.catch(() => undefined))?.disconnect();
  }

  private connected(): Promise<Admin> {
    if (this.admin === undefined) {
      const connecting = (async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        return admin;
      })();
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
      this.admin = connecting;
    }
    return this.admin;
  }

  private discard(): void {
    const admin = this.admin;
    this.admin = undefined;
    void admin?.then((client) => client.disconnect()).catch(() => {});
  }
}
