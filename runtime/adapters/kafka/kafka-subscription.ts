import type { Consumer, IHeaders, KafkaMessage } from "kafkajs";
import type { ConsumedRecord, RecordBatch, SubscribeOptions, Subscription } from "../../ports/event-log.js";

/**
 * Partitions whose batches one consumer handles at once (each partition's records still one batch at a time,
 * in order). kafkajs's default is one for the whole consumer: a fanout worker then delivered one partition's
 * batch while every other partition's records waited, which made the broker-to-fanout hop's p99 100 ms at a p50
 * of 2 ms (cluster, 100 msg/s).
 */
const PARTITIONS_CONSUMED_CONCURRENTLY = 8;

/**
 * One subscription of the event log on Kafka: one kafkajs consumer. A batch is committed (last handled offset
 * + 1) only after its handler resolved; when the handler throws, the partition seeks back to the batch's first
 * offset and pauses, so the same records come again and nothing after them passes.
 */
export class KafkaSubscription implements Subscription {
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
