import type { Admin, Producer } from "kafkajs";
import kafkajs from "kafkajs";
import { AppError, isAppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { partitionFor } from "../../partitioning.js";
import type {
  EventLog,
  EventRecord,
  PublishedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../ports/event-log.js";
import { connectOnce, kafkajsLogging } from "./kafka-client.js";
import { kafkaAppError } from "./kafka-errors.js";
import { KafkaSubscription } from "./kafka-subscription.js";
import { ProduceCombiner } from "./produce-combiner.js";

const { Kafka } = kafkajs;

export interface KafkaEventLogOptions {
  /** `host:port` of the bootstrap brokers. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Receives kafkajs's own log lines (as `component: "kafkajs"`); without it kafkajs logs nothing. */
  readonly logger?: Logger;
  /** Pause before a batch whose handler threw is fetched again. */
  readonly handlerRetryDelayMs?: number;
  /**
   * Longest a fetch waits on the broker for new records. New records end the wait at once, so it bounds only
   * idle polling and how soon a paused partition is fetched again (kafkajs sleeps this long when every
   * partition of a consumer is paused).
   */
  readonly maxWaitTimeMs?: number;
  /** Retries of a failed request before a call fails (kafkajs's default: 5, about 10 s of back-off). */
  readonly retries?: number;
  /**
   * How long one request may wait for a broker's answer (kafkajs's default: 30 s). A stopped broker is only
   * noticed after this, times the attempts; the outbox keeps acknowledging sends meanwhile either way.
   */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_HANDLER_RETRY_DELAY_MS = 500;
const DEFAULT_MAX_WAIT_TIME_MS = 500;

/**
 * The event log on Kafka through kafkajs 2.2.4 (classic consumer groups, protocol versions Kafka 4.x kept).
 * kafkajs is unmaintained: it stays behind the EventLog port so it can be swapped. Its parts: the combined
 * produce requests (produce-combiner.ts), the consumers (kafka-subscription.ts), client set-up
 * (kafka-client.ts) and the mapping of its errors (kafka-errors.ts).
 */
export class KafkaEventLog implements EventLog {
  private readonly kafka: InstanceType<typeof Kafka>;
  private readonly handlerRetryDelayMs: number;
  private readonly maxWaitTimeMs: number;
  private readonly retries: number | undefined;
  /** Partition counts never change for a topic (spec §4: a change means a new topic), so they are cached. */
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private admin: Promise<Admin> | undefined;
  private producer: Promise<Producer> | undefined;
  private closed = false;
  /** Combines the publishes of every caller into produce requests (see ProduceCombiner). */
  private readonly produce = new ProduceCombiner({
    connected: () => this.connectedProducer(),
    discard: () => this.discardProducer(),
  });

  constructor(options: KafkaEventLogOptions) {
    this.handlerRetryDelayMs = options.handlerRetryDelayMs ?? DEFAULT_HANDLER_RETRY_DELAY_MS;
    this.maxWaitTimeMs = options.maxWaitTimeMs ?? DEFAULT_MAX_WAIT_TIME_MS;
    this.retries = options.retries;
    this.kafka = new Kafka({
      brokers: [...options.brokers],
      clientId: options.clientId,
      ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
      ...kafkajsLogging(options.logger),
    });
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    const admin = await this.connectedAdmin();
    try {
      // Only the missing ones: asking to create an existing topic makes the broker answer with an error that
      // kafkajs logs loudly, although it is harmless. A concurrent creator still wins the race cleanly.
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic.name));
      if (missing.length === 0) return;
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic: topic.name, numPartitions: topic.partitions })),
        waitForLeaders: true,
      });
    } catch (error) {
      throw kafkaAppError(error, "creating topics");
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    const admin = await this.connectedAdmin();
    try {
      await admin.describeCluster();
    } catch (error) {
      throw kafkaAppError(error, "describing the cluster");
    }
  }

  async partitionCount(topic: string): Promise<number> {
    this.assertOpen();
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const admin = await this.connectedAdmin();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
      if (count === 0) throw new AppError("NOT_FOUND", `topic ${topic} does not exist`);
      this.partitionCounts.set(topic, count);
      return count;
    } catch (error) {
      throw kafkaAppError(error, `reading the partitions of ${topic}`);
    }
  }

  /** Places each record on its key's partition (D4: one chat, one partition), then joins the next request. */
  async publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    this.assertOpen();
    if (records.length === 0) return [];
    const partitions = await this.partitionCount(topic);
    const placed = records.map((record) => ({ record, partition: partitionFor(record.key, partitions) }));
    return this.produce.publish(topic, placed);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    // Fails with NOT_FOUND for an unknown topic (kafkajs would keep retrying its metadata).
    for (const topic of options.topics) await this.partitionCount(topic);
    const startAt = options.fromBeginning ? new Map<string, string>() : await this.endsWithoutCommit(options);
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.maxWaitTimeMs,
    });
    const subscription = new KafkaSubscription(consumer, options, this.handlerRetryDelayMs, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start(startAt);
    } catch (error) {
      await subscription.stop().catch(() => {});
      throw kafkaAppError(error, `subscribing ${options.groupId} to ${options.topics.join(", ")}`);
    }
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.produce.rejectQueued(new AppError("SERVICE_UNAVAILABLE", "the event log is closed"));
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.stop()));
    const clients = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled(clients.map(async (client) => (await client)?.disconnect()));
  }

  /**
   * "No committed offset and fromBeginning false" means the end of the log when `subscribe` is called. kafkajs
   * would look up the end only at its first fetch, after the group join, and skip what was published in
   * between; so the ends are read here, and the subscription seeks there on its first assignment.
   */
  private async endsWithoutCommit(options: SubscribeOptions): Promise<Map<string, string>> {
    // Right after a topic is created (or a broker restarts) its leaders may still be moving: a retriable
    // answer such as NOT_LEADER_OR_FOLLOWER is asked again after a pause rather than failing the subscribe.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readEndsWithoutCommit(options);
      } catch (error) {
        // toAppError turns retriable broker answers (and an unreachable broker) into SERVICE_UNAVAILABLE.
        const retriable = isAppError(error) && error.code === "SERVICE_UNAVAILABLE";
        if (!retriable || attempt >= 6) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private async readEndsWithoutCommit(options: SubscribeOptions): Promise<Map<string, string>> {
    const admin = await this.connectedAdmin();
    const ends = new Map<string, string>();
    try {
      const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: [...options.topics] });
      for (const topic of options.topics) {
        const uncommitted = new Set(
          committed
            .find((entry) => entry.topic === topic)
            ?.partitions.filter((entry) => Number(entry.offset) < 0)
            .map((entry) => entry.partition),
        );
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
          if (uncommitted.has(partition)) ends.set(`${topic}:${partition}`, high);
        }
      }
    } catch (error) {
      throw kafkaAppError(error, `reading the offsets of ${options.groupId}`);
    }
    return ends;
  }

  private connectedAdmin(): Promise<Admin> {
    this.assertOpen();
    this.admin ??= connectOnce(this.kafka.admin(), "the Kafka admin client", () => {
      this.admin = undefined;
    });
    return this.admin;
  }

  private connectedProducer(): Promise<Producer> {
    this.assertOpen();
    this.producer ??= connectOnce(
      this.kafka.producer({
        // Not idempotent. kafkajs gives a failed request's sequence numbers back to the next batch of the same
        // partition (sendMessages rolls them back), but a request that timed out against a frozen or slow
        // broker may still be appended when the broker resumes: the next batch — another chat's events — then
        // carries the same sequence, the broker takes it for a retry of the first, answers success with the
        // first's offset and drops it. A chaos run lost 3 acknowledged messages' events that way. Without
        // idempotence a retry may write a batch twice, which the log allows (D4: consumers dedupe by sequence).
        idempotent: false,
        // One request at a time per broker: a retried batch is never overtaken by the next one.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        ...(this.retries === undefined ? {} : { retry: { retries: this.retries } }),
        // Every message carries its partition (partitionFor); this only says so, and keeps kafkajs from
        // warning about its default partitioner.
        createPartitioner:
          () =>
          ({ message }) =>
            message.partition ?? 0,
      }),
      "the Kafka producer",
      () => {
        this.producer = undefined;
      },
    );
    return this.producer;
  }

  /**
   * After a failed send its outcome is unknown (a broker that stopped answering may still write the batch
   * when it comes back). The next publish starts on a new producer, with fresh connections; a record written
   * twice this way is a duplicate, which consumers dedupe (D4).
   */
  private discardProducer(): void {
    const stale = this.producer;
    this.producer = undefined;
    void stale?.then((producer) => producer.disconnect()).catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError("SERVICE_UNAVAILABLE", "the event log is closed");
  }
}
