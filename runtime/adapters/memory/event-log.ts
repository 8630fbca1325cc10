import { type Clock, SystemClock, type TimerHandle } from "../../clock.js";
import { AppError } from "../../errors.js";
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

export interface InProcessEventLogOptions {
  /** Times the pause before a failed batch is delivered again, and stamps records (D14: injected time). */
  readonly clock?: Clock;
  /** Pause before a batch whose handler threw is delivered again; Kafka's adapter pauses the partition alike. */
  readonly handlerRetryDelayMs?: number;
  /** Most records in one batch: the fanout consumer's `max.poll.records` (spec §4). */
  readonly maxBatchRecords?: number;
}

const DEFAULT_HANDLER_RETRY_DELAY_MS = 500;
const DEFAULT_MAX_BATCH_RECORDS = 500;

type PartitionKey = string;
const partitionKey = (topic: string, partition: number): PartitionKey => `${topic}\u0000${partition}`;

/**
 * The event log of the embedded mode: Kafka's semantics in one process, proven by the same contract suite
 * (test/contract/event-log.contract.ts). Each topic is a fixed number of append-only partitions; consumer
 * groups share partitions among their subscriptions and keep committed offsets, so a record is redelivered
 * until a handler has finished it (at-least-once). Nothing is persisted: a restart starts empty.
 */
export class InProcessEventLog implements EventLog {
  private readonly topics = new Map<string, ConsumedRecord[][]>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly clock: Clock;
  private readonly handlerRetryDelayMs: number;
  private readonly maxBatchRecords: number;
  private closed = false;

  constructor(options: InProcessEventLogOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.handlerRetryDelayMs = options.handlerRetryDelayMs ?? DEFAULT_HANDLER_RETRY_DELAY_MS;
    this.maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const { name, partitions } of topics) {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new AppError(
          "CONFIG_INVALID",
          `topic ${name} needs a positive partition count, not ${partitions}`,
        );
      }
      if (!this.topics.has(name))
        this.topics.set(
          name,
          Array.from({ length: partitions }, () => []),
        );
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async partitionCount(topic: string): Promise<number> {
    return this.partitionsOf(topic).length;
  }

  async publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    this.assertOpen();
    const partitions = this.partitionsOf(topic);
    const timestamp = this.clock.now();
    const published = records.map((record): PublishedRecord => {
      const partition = partitionFor(record.key, partitions.length);
      const log = partitions[partition] ?? [];
      const offset = String(log.length);
      // Copies: a caller reusing its buffer or headers object must not rewrite history.
      log.push({
        topic,
        partition,
        offset,
        timestamp,
        key: record.key,
        value: record.value.slice(),
        headers: Object.freeze({ ...record.headers }),
      });
      return { topic, partition, offset };
    });
    if (published.length > 0) {
      for (const group of this.groups.values()) group.wakeMembersOf(topic);
    }
    return published;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const logs = new Map(options.topics.map((topic) => [topic, this.partitionsOf(topic)] as const));
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = new ConsumerGroup();
      this.groups.set(options.groupId, group);
    }
    const member = new GroupMember(group, logs, options, {
      clock: this.clock,
      handlerRetryDelayMs: this.handlerRetryDelayMs,
      maxBatchRecords: this.maxBatchRecords,
    });
    group.join(member, logs);
    return member;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.groups.values()].flatMap((group) => group.members.map((member) => member.stop())),
    );
  }

  private partitionsOf(topic: string): ConsumedRecord[][] {
    const partitions = this.topics.get(topic);
    if (partitions === undefined) throw new AppError("NOT_FOUND", `topic ${topic} does not exist`);
    return partitions;
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError("SERVICE_UNAVAILABLE", "the event log is closed");
  }
}

/**
 * Members, their partition assignment and the committed offsets of one group id. Committed offsets outlive
 * the members, as in Kafka. A partition has at most one holder: after a rebalance the previous holder keeps
 * it until its running batch has finished (and committed), then the new owner takes it at the committed offset.
 */
class ConsumerGroup {
  readonly members: GroupMember[] = [];
  /** Next offset to handle, per partition: the last handled offset + 1. */
  readonly committed = new Map<PartitionKey, number>();
  readonly holders = new Map<PartitionKey, GroupMember>();
  private owners = new Map<PartitionKey, GroupMember>();
  private readonly topicPartitions = new Map<string, number>();

  join(member: GroupMember, logs: ReadonlyMap<string, readonly unknown[]>): void {
    this.learnTopics(logs);
    this.members.push(member);
    this.rebalance();
  }

  leave(member: GroupMember): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.rebalance();
  }

  ownerOf(key: PartitionKey): GroupMember | undefined {
    return this.owners.get(key);
  }

  wakeMembersOf(topic: string): void {
    for (const member of this.members) if (member.topics.includes(topic)) member.wake();
  }

  wakeAll(): void {
    for (const member of this.members) member.wake();
  }

  /** Round-robin over every partition of every topic, among the members subscribed to that topic. */
  private rebalance(): void {
    const owners = new Map<PartitionKey, GroupMember>();
    let next = 0;
    for (const [topic, count] of [...this.topicPartitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const eligible = this.members.filter((member) => member.topics.includes(topic));
      if (eligible.length === 0) continue;
      for (let partition = 0; partition < count; partition++) {
        const owner = eligible[next++ % eligible.length];
        if (owner !== undefined) owners.set(partitionKey(topic, partition), owner);
      }
    }
    this.owners = owners;
    this.wakeAll();
  }

  private learnTopics(logs: ReadonlyMap<string, readonly unknown[]>): void {
    for (const [topic, partitions] of logs) this.topicPartitions.set(topic, partitions.length);
  }
}

interface HeldPartition {
  readonly topic: string;
  readonly partition: number;
  readonly key: PartitionKey;
  /** Next offset to deliver. */
  position: number;
  /** Set while the pause after a failed batch runs. */
  retryTimer: TimerHandle | undefined;
}

interface MemberSettings {
  readonly clock: Clock;
  readonly handlerRetryDelayMs: number;
  readonly maxBatchRecords: number;
}

/**
 * One subscription: handles one batch at a time (like one Kafka consumer), choosing round-robin among the
 * partitions it holds that have records. It runs only when woken (a publish, a rebalance, a retry timer),
 * never polls.
 */
class GroupMember implements Subscription {
  readonly topics: readonly string[];
  private readonly held = new Map<PartitionKey, HeldPartition>();
  /** Where a partition with no committed offset starts when `fromBeginning` is false: the end at subscribe. */
  private readonly endAtSubscribe = new Map<PartitionKey, number>();
  private cursor = 0;
  private woken = false;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly group: ConsumerGroup,
    private readonly logs: ReadonlyMap<string, readonly (readonly ConsumedRecord[])[]>,
    private readonly options: SubscribeOptions,
    private readonly settings: MemberSettings,
  ) {
    this.topics = [...options.topics];
    for (const [topic, partitions] of logs) {
      for (const [partition, log] of partitions.entries()) {
        this.endAtSubscribe.set(partitionKey(topic, partition), log.length);
      }
    }
  }

  wake(): void {
    this.woken = true;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      if (this.woken && this.stopped === undefined) this.wake();
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // The running batch finishes (and commits when it succeeds); no new batch starts.
      await this.running;
      for (const held of this.held.values()) this.release(held);
      this.group.leave(this);
    })();
    return this.stopped;
  }

  private async run(): Promise<void> {
    // Handlers never run inside the publisher's (or subscriber's) call stack.
    await Promise.resolve();
    while (this.woken && this.stopped === undefined) {
      this.woken = false;
      for (;;) {
        this.syncAssignment();
        const next = this.nextBatch();
        if (next === undefined || this.stopped !== undefined) break;
        await this.deliver(next.held, next.batch);
      }
    }
  }

  /** Lets go of partitions the group gave to someone else; takes the ones given to us once they are free. */
  private syncAssignment(): void {
    let released = false;
    for (const held of this.held.values()) {
      if (this.group.ownerOf(held.key) !== this) {
        this.release(held);
        released = true;
      }
    }
    for (const [topic, partitions] of this.logs) {
      for (let partition = 0; partition < partitions.length; partition++) {
        const key = partitionKey(topic, partition);
        if (this.held.has(key) || this.group.ownerOf(key) !== this || this.group.holders.has(key)) continue;
        const position =
          this.group.committed.get(key) ??
          (this.options.fromBeginning ? 0 : (this.endAtSubscribe.get(key) ?? 0));
        this.held.set(key, { topic, partition, key, position, retryTimer: undefined });
        this.group.holders.set(key, this);
      }
    }
    if (released) this.group.wakeAll();
  }

  private release(held: HeldPartition): void {
    if (held.retryTimer !== undefined) this.settings.clock.clearTimeout(held.retryTimer);
    this.held.delete(held.key);
    if (this.group.holders.get(held.key) === this) this.group.holders.delete(held.key);
  }

  private nextBatch(): { held: HeldPartition; batch: RecordBatch } | undefined {
    const candidates = [...this.held.values()];
    for (let step = 0; step < candidates.length; step++) {
      const held = candidates[(this.cursor + step) % candidates.length];
      if (held === undefined || held.retryTimer !== undefined) continue;
      const log = this.logs.get(held.topic)?.[held.partition] ?? [];
      if (held.position >= log.length) continue;
      this.cursor = (this.cursor + step + 1) % candidates.length;
      const records = log
        .slice(held.position, held.position + this.settings.maxBatchRecords)
        // A fresh value per delivery, as from a broker: a handler that mutates it cannot change the log.
        .map((record) => ({ ...record, value: record.value.slice() }));
      return { held, batch: { topic: held.topic, partition: held.partition, records } };
    }
    return undefined;
  }

  private async deliver(held: HeldPartition, batch: RecordBatch): Promise<void> {
    try {
      await this.options.handle(batch);
    } catch (error) {
      try {
        this.options.onHandlerError?.(error, batch);
      } catch {
        // A failing error reporter must not stop redelivery.
      }
      // Nothing is committed and the position stays: after the pause the same records come again, and no
      // later record of this partition is delivered before them.
      held.retryTimer = this.settings.clock.setTimeout(() => {
        held.retryTimer = undefined;
        this.wake();
      }, this.settings.handlerRetryDelayMs);
      return;
    }
    held.position += batch.records.length;
    this.group.committed.set(held.key, held.position);
  }
}
