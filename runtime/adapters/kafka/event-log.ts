import type { Admin, Consumer, IHeaders, KafkaMessage, LogEntry, Producer } from "kafkajs";
import kafkajs from "kafkajs";
import { AppError, isAppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { partitionFor } from "../../partitioning.js";
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  PublishedRecord,
  RecordBatch,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../ports/event-log.js";

const { Kafka, logLevel } = kafkajs;

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

/** One publish call waiting to be combined into a produce request. */
interface QueuedPublish {
  readonly topic: string;
  readonly placed: ReadonlyArray<{ readonly record: EventRecord; readonly partition: number }>;
  resolve(records: PublishedRecord[]): void;
  reject(error: unknown): void;
}

/**
 * One combined produce request carries at most this many records and bytes (a single call larger than that
 * goes alone, as before): well under the broker's default 1 MiB limit, whatever the messages' sizes.
 */
const MAX_RECORDS_PER_REQUEST = 1_000;
const MAX_BYTES_PER_REQUEST = 512 * 1024;
/**
 * Partitions whose batches one consumer handles at once (each partition's records still one batch at a time,
 * in order). kafkajs's default is one for the whole consumer: a fanout worker then delivered one partition's
 * batch while every other partition's records waited, which made the broker-to-fanout hop's p99 100 ms at a p50
 * of 2 ms (cluster, 100 msg/s).
 */
const PARTITIONS_CONSUMED_CONCURRENTLY = 8;
const DEFAULT_HANDLER_RETRY_DELAY_MS = 500;
const DEFAULT_MAX_WAIT_TIME_MS = 500;
/** kafkajs errors that mean "no broker answered" rather than "a broker said no". */
const UNREACHABLE_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

/**
 * The event log on Kafka through kafkajs 2.2.4 (classic consumer groups, protocol versions Kafka 4.x kept).
 * kafkajs is unmaintained: it stays behind the EventLog port so it can be swapped.
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
  /** Publish calls waiting for the request in flight to finish (see publish). */
  private readonly queued: QueuedPublish[] = [];
  private producing = false;

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
      throw toAppError(error, "creating topics");
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    const admin = await this.connectedAdmin();
    try {
      await admin.describeCluster();
    } catch (error) {
      throw toAppError(error, "describing the cluster");
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
      throw toAppError(error, `reading the partitions of ${topic}`);
    }
  }

  /**
   * Publishes of every caller (each chat's outbox) are combined: while one produce request is in flight, the
   * calls made meanwhile wait and then leave together as one request. The producer sends one request at a time
   * per broker (maxInFlightRequests), so without this a node's chats queued behind each other one round trip
   * each: at 100 msg/s under load the produce hop reached 660 ms p50. Each call's records keep their order; a
   * request that fails fails every call it carried, and each outbox retries (a record written twice is a
   * duplicate consumers drop, D4).
   */
  async publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    this.assertOpen();
    if (records.length === 0) return [];
    const partitions = await this.partitionCount(topic);
    const placed = records.map((record) => ({ record, partition: partitionFor(record.key, partitions) }));
    return new Promise((resolve, reject) => {
      this.queued.push({ topic, placed, resolve, reject });
      this.pumpPublishes();
    });
  }

  private pumpPublishes(): void {
    if (this.producing || this.queued.length === 0) return;
    const calls: QueuedPublish[] = [];
    let records = 0;
    let bytes = 0;
    while (this.queued.length > 0) {
      const next = this.queued[0] as QueuedPublish;
      const nextBytes = next.placed.reduce(
        (sum, { record }) => sum + record.value.byteLength + record.key.length,
        0,
      );
      const full =
        records + next.placed.length > MAX_RECORDS_PER_REQUEST || bytes + nextBytes > MAX_BYTES_PER_REQUEST;
      if (calls.length > 0 && full) break;
      calls.push(next);
      records += next.placed.length;
      bytes += nextBytes;
      this.queued.shift();
    }
    this.producing = true;
    void this.produce(calls).finally(() => {
      this.producing = false;
      this.pumpPublishes();
    });
  }

  /** One request for every call given; resolves each call with its records' offsets, or rejects them all. */
  private async produce(calls: readonly QueuedPublish[]): Promise<void> {
    const topics = [...new Set(calls.map((call) => call.topic))];
    let results: PublishedRecord[][];
    try {
      this.assertOpen();
      const producer = await this.connectedProducer();
      let metadata: Awaited<ReturnType<Producer["sendBatch"]>>;
      try {
        metadata = await producer.sendBatch({
          acks: -1,
          topicMessages: topics.map((topic) => ({
            topic,
            messages: calls
              .filter((call) => call.topic === topic)
              .flatMap((call) =>
                call.placed.map(({ record, partition }) => ({
                  partition,
                  key: record.key,
                  value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
                  ...(record.headers === undefined ? {} : { headers: { ...record.headers } }),
                })),
              ),
          })),
        });
      } catch (error) {
        this.discardProducer();
        throw toAppError(error, `publishing to ${topics.join(", ")}`);
      }
      // One request writes one record batch per topic partition, in the given order: the n-th record of a
      // partition in this request has the batch's base offset + n.
      const seen = new Map<string, number>();
      results = calls.map((call) =>
        call.placed.map(({ partition }): PublishedRecord => {
          const base = metadata.find(
            (entry) => entry.topicName === call.topic && entry.partition === partition,
          )?.baseOffset;
          if (base === undefined) {
            throw new AppError("INTERNAL_ERROR", `no offset for ${call.topic}/${partition}`, {
              public: false,
            });
          }
          const key = `${call.topic}\u0000${partition}`;
          const index = seen.get(key) ?? 0;
          seen.set(key, index + 1);
          return { topic: call.topic, partition, offset: (BigInt(base) + BigInt(index)).toString() };
        }),
      );
    } catch (error) {
      for (const call of calls) call.reject(error);
      return;
    }
    calls.forEach((call, index) => {
      call.resolve(results[index] as PublishedRecord[]);
    });
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
      throw toAppError(error, `subscribing ${options.groupId} to ${options.topics.join(", ")}`);
    }
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const call of this.queued.splice(0))
      call.reject(new AppError("SERVICE_UNAVAILABLE", "the event log is closed"));
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
      throw toAppError(error, `reading the offsets of ${options.groupId}`);
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

/**
 * One kafkajs consumer. A batch is committed (last handled offset + 1) only after its handler resolved; when
 * the handler throws, the partition seeks back to the batch's first offset and pauses, so the same records
 * come again and nothing after them passes.
 */
class KafkaSubscription implements Subscription {
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
    private readonly handlerRetryDelayMs: number,
    private readonly onStopped: () => void,
  ) {}

  /** Resolves once the consumer has joined its group and received its partitions. */
  async start(startAt: ReadonlyMap<string, string>): Promise<void> {
    const { consumer } = this;
    let firstAssignment = true;
    // Runs inside kafkajs's join, before its first fetch: a seek set here decides where that fetch starts.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (!firstAssignment) return;
      firstAssignment = false;
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = startAt.get(`${topic}:${partition}`);
          if (offset !== undefined) consumer.seek({ topic, partition, offset });
        }
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_CONSUMED_CONCURRENTLY,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, pause, isRunning, isStale }) => {
        // Stopping, or a seek is pending: this batch is not ours to handle any more.
        if (!isRunning() || isStale()) return;
        const { topic, partition } = batch;
        const records = batch.messages.map((message) => toConsumedRecord(topic, partition, message));
        const first = records[0];
        const last = batch.messages.at(-1);
        if (first === undefined || last === undefined) return;
        const recordBatch: RecordBatch = { topic, partition, records };
        try {
          await this.options.handle(recordBatch);
        } catch (error) {
          this.reportHandlerError(error, recordBatch);
          consumer.seek({ topic, partition, offset: first.offset });
          const resume = pause();
          const timer = setTimeout(() => {
            this.retryTimers.delete(timer);
            resume();
          }, this.handlerRetryDelayMs);
          this.retryTimers.add(timer);
          return;
        }
        // Straight to the group coordinator: `consumer.commitOffsets` silently skips the commit once a stop has
        // begun, and a stopping subscription still commits what it finished. If this fails (a rebalance),
        // kafkajs rejoins and the records come again: at-least-once.
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
        resolveOffset(last.offset);
      },
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const timer of this.retryTimers) clearTimeout(timer);
      this.retryTimers.clear();
      try {
        // Waits for the running batch, then leaves the group so its partitions move at once.
        await this.consumer.disconnect();
      } finally {
        this.onStopped();
      }
    })();
    return this.stopped;
  }

  private reportHandlerError(error: unknown, batch: RecordBatch): void {
    try {
      this.options.onHandlerError?.(error, batch);
    } catch {
      // A failing error reporter must not stop redelivery.
    }
  }
}

function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key?.toString("utf8") ?? "",
    value: message.value === null ? new Uint8Array() : new Uint8Array(message.value),
    headers: headersOf(message.headers),
  };
}

/** Kafka headers may repeat a name and carry bytes; the port has one string per name: the last one wins. */
function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw.at(-1) : raw;
    if (value !== undefined) result[name] = value.toString();
  }
  return result;
}

/** Connects a client; a failed connection is forgotten (`forget`) so the next call tries again. */
function connectOnce<T extends Admin | Producer>(client: T, what: string, forget: () => void): Promise<T> {
  return client.connect().then(
    () => client,
    (error: unknown) => {
      forget();
      throw toAppError(error, `connecting ${what}`);
    },
  );
}

/**
 * Broker unreachable or temporarily unable -> SERVICE_UNAVAILABLE, unknown topic -> NOT_FOUND, anything else
 * -> INTERNAL_ERROR.
 */
function toAppError(error: unknown, what: string): AppError {
  if (isAppError(error)) return error;
  let unreachable = false;
  let unknownTopic = false;
  // kafkajs wraps the last failure of a retried call in KafkaJSNumberOfRetriesExceeded (`cause`/`originalError`).
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const { type, cause, originalError, retriable } = current as Error & {
      type?: string;
      originalError?: unknown;
      retriable?: boolean;
    };
    // A retriable broker answer (a coordinator loading, a leader moving) is a temporary outage too.
    if (UNREACHABLE_ERRORS.has(current.name) || retriable === true) unreachable = true;
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") unknownTopic = true;
    current = cause ?? originalError;
  }
  if (unknownTopic) return new AppError("NOT_FOUND", `${what}: unknown topic`, { cause: error });
  if (unreachable) {
    return new AppError("SERVICE_UNAVAILABLE", `${what}: no Kafka broker could be reached`, { cause: error });
  }
  return new AppError("INTERNAL_ERROR", `${what} failed`, { cause: error, public: false });
}

/** kafkajs's log lines into pino at the matching level, or nothing at all without a logger. */
function kafkajsLogging(logger: Logger | undefined) {
  if (logger === undefined) return { logLevel: logLevel.NOTHING };
  const child = logger.child({ component: "kafkajs" });
  const levels: Record<string, number> = {
    trace: logLevel.DEBUG,
    debug: logLevel.DEBUG,
    info: logLevel.INFO,
    warn: logLevel.WARN,
    error: logLevel.ERROR,
    fatal: logLevel.ERROR,
  };
  return {
    logLevel: levels[logger.level] ?? logLevel.NOTHING,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
        const line = { namespace, ...fields };
        if (level === logLevel.ERROR) child.error(line, message);
        else if (level === logLevel.WARN) child.warn(line, message);
        else if (level === logLevel.INFO) child.info(line, message);
        else child.debug(line, message);
      },
  };
}
