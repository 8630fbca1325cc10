/**
 * The event log (Kafka in a cluster, an in-process partitioned log when embedded). Both adapters keep the
 * same semantics, proven by one contract suite:
 * - a record's partition is `partitionFor(key, partitions)` (Kafka's murmur2, see ../partitioning.ts), so
 *   every event of a chat lands in one partition, in publish order;
 * - `publish` resolves once the records are durable (Kafka: acks=all); a retried publish may write a record
 *   twice (consumers dedupe by sequence, D4), never lose one;
 * - consumers in one group share a topic's partitions; each partition is handled by one member at a time,
 *   in offset order; a batch is committed only after its handler returned, so a record is redelivered
 *   (at-least-once) until a handler has finished it, and a failed handler never lets later records pass.
 */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
}

export interface EventRecord {
  /** The partition key: the chat id for every topic of this product. */
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PublishedRecord {
  readonly topic: string;
  readonly partition: number;
  /** Decimal offset (Kafka offsets are 64-bit). */
  readonly offset: string;
}

export interface ConsumedRecord extends EventRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Epoch ms at which the log accepted the record. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  /** Consecutive records of one partition in offset order. */
  readonly records: readonly ConsumedRecord[];
}

export interface SubscribeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group with no committed offset starts: the oldest record (true) or only new ones (false). */
  readonly fromBeginning: boolean;
  /**
   * Handles one batch. When it resolves, the batch is committed. When it throws, nothing of the batch is
   * committed and the same records are delivered again after a short pause.
   */
  readonly handle: (batch: RecordBatch) => Promise<void>;
  /** Called with the failure each time `handle` throws (for logging and metrics). */
  readonly onHandlerError?: (error: unknown, batch: RecordBatch) => void;
}

export interface Subscription {
  /** Stops fetching, waits for the running handler, commits what it finished and leaves the group. */
  stop(): Promise<void>;
}

export interface EventLog {
  /** Creates missing topics; an existing topic is left as it is. Idempotent. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;

  /** Partition count of a topic (throws NOT_FOUND for an unknown topic). */
  partitionCount(topic: string): Promise<number>;

  /** Appends records in the given order; resolves when they are durable. */
  publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]>;

  subscribe(options: SubscribeOptions): Promise<Subscription>;

  /** One round trip to the log (Kafka: a cluster description), for health checks; rejects when unreachable. */
  ping(): Promise<void>;

  /** Stops every subscription and releases connections. */
  close(): Promise<void>;
}
