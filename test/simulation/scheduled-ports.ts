import { type BlockQuery, BlockReadingStore } from "../../runtime/adapters/block-reads.js";
import type { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { decodeEnvelope, messagePersistedPayload } from "../../runtime/events.js";
import type { ChatId, Sequence, UserId } from "../../runtime/ids.js";
import type {
  EventLog,
  EventRecord,
  PublishedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../runtime/ports/event-log.js";
import type {
  BlockPutOutcome,
  ChatCounters,
  DeliveryState,
  IdempotencyRecord,
  IndexKey,
  MessageBlock,
  MessageStore,
  StoredMessage,
} from "../../runtime/ports/message-store.js";
import type { StepScheduler } from "./scheduler.js";

/** The sequence a MessagePersisted record carries, for the trace. */
const sequenceOf = (record: EventRecord): number =>
  messagePersistedPayload(decodeEnvelope(record.value)).sequence;

const span = (messages: readonly { sequence: number }[]): string =>
  messages.length === 0 ? "[]" : `[${messages[0]?.sequence}..${messages.at(-1)?.sequence}]`;

const blocksOf = (blocks: readonly MessageBlock[]): string =>
  blocks.length === 0
    ? "none"
    : blocks.map((block) => `${block.firstSequence}..${block.lastSequence}`).join(",");

const countersOf = (counters: ChatCounters | undefined): string =>
  counters === undefined
    ? "none"
    : `hw=${counters.highWater} pub=${counters.publishedThrough} idx=${counters.indexedThrough}`;

/** The memory adapter's range query of block keys (BlockReadingStore's primitive). */
interface BlockQueries {
  queryBlocks(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]>;
}

/**
 * One owner's view of the shared message store: every request is a step of the scheduler (a read of messages
 * is one step per Query, as on DynamoDB). Reads can be refused;
 * writes can also land and lose their reply; index writes can land in part (a prefix, as BatchWriteItem's
 * UnprocessedItems leave them when the adapter's retries run out).
 */
export class ScheduledMessageStore extends BlockReadingStore implements MessageStore {
  private readonly queries: BlockQueries;

  constructor(
    private readonly inner: MemoryMessageStore,
    private readonly owner: string,
    private readonly scheduler: StepScheduler,
  ) {
    super();
    // The memory adapter's own primitive (protected there): the same reads run over it, one query per step.
    this.queries = inner as unknown as BlockQueries;
  }

  appendBlock(chatId: ChatId, messages: readonly StoredMessage[]): Promise<BlockPutOutcome> {
    const cmids = messages.map((message) => message.clientMessageId).join(",");
    return this.scheduler.request({
      owner: this.owner,
      label: `appendBlock ${span(messages)} {${cmids}}`,
      writes: true,
      divisible: 0,
      apply: () => this.inner.appendBlock(chatId, messages),
      describe: (outcome) => outcome,
    });
  }

  /**
   * The one primitive every read of messages is made of, as in the DynamoDB adapter, where each is a Query
   * request of its own: a read of several queries (readBlocksAfter, a sync page) is several steps, and other
   * owners' writes can land between them.
   */
  protected queryBlocks(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]> {
    const range = [
      query.lowest === undefined ? "" : `first>=${query.lowest}`,
      query.highest === undefined ? "" : `first<=${query.highest}`,
    ]
      .filter((part) => part !== "")
      .join(" ");
    return this.scheduler.request({
      owner: this.owner,
      label: `query ${range || "all"} ${query.order} limit ${query.limit}`,
      writes: false,
      divisible: 0,
      apply: () => this.queries.queryBlocks(chatId, query),
      describe: blocksOf,
    });
  }

  getIndexRecords(keys: readonly IndexKey[]): Promise<IdempotencyRecord[]> {
    return this.scheduler.request({
      owner: this.owner,
      label: `getIndexRecords {${keys.map((key) => key.clientMessageId).join(",")}}`,
      writes: false,
      divisible: 0,
      apply: () => this.inner.getIndexRecords(keys),
      describe: (records) =>
        `{${records.map((record) => `${record.clientMessageId}@${record.sequence}`).join(",")}}`,
    });
  }

  putIndexRecords(records: readonly IdempotencyRecord[]): Promise<void> {
    return this.scheduler.request({
      owner: this.owner,
      label: `putIndexRecords {${records.map((record) => `${record.clientMessageId}@${record.sequence}`).join(",")}}`,
      writes: true,
      divisible: records.length,
      apply: (keep) => this.inner.putIndexRecords(keep === undefined ? records : records.slice(0, keep)),
    });
  }

  getCounters(chatId: ChatId): Promise<ChatCounters | undefined> {
    return this.scheduler.request({
      owner: this.owner,
      label: "getCounters",
      writes: false,
      divisible: 0,
      apply: () => this.inner.getCounters(chatId),
      describe: countersOf,
    });
  }

  advanceCounters(
    chatId: ChatId,
    advance: { readonly highWater?: number; readonly publishedThrough?: number },
  ): Promise<ChatCounters> {
    return this.scheduler.request({
      owner: this.owner,
      label: `advanceCounters hw=${advance.highWater ?? "-"} pub=${advance.publishedThrough ?? "-"}`,
      writes: true,
      divisible: 0,
      apply: () => this.inner.advanceCounters(chatId, advance),
      describe: countersOf,
    });
  }

  compareAndSetIndexedThrough(chatId: ChatId, from: number, to: number): Promise<ChatCounters> {
    return this.scheduler.request({
      owner: this.owner,
      label: `casIndexedThrough ${from}->${to}`,
      writes: true,
      divisible: 0,
      apply: () => this.inner.compareAndSetIndexedThrough(chatId, from, to),
      describe: countersOf,
    });
  }

  advanceDeliveryState(userId: UserId, chatId: ChatId, sequence: Sequence): Promise<boolean> {
    return this.scheduler.request({
      owner: this.owner,
      label: `advanceDeliveryState ${userId.slice(-4)} ${sequence}`,
      writes: true,
      divisible: 0,
      apply: () => this.inner.advanceDeliveryState(userId, chatId, sequence),
      describe: (rose) => (rose ? "rose" : "unchanged"),
    });
  }

  getDeliveryState(userId: UserId, chatId: ChatId): Promise<DeliveryState | undefined> {
    return this.scheduler.request({
      owner: this.owner,
      label: `getDeliveryState ${userId.slice(-4)}`,
      writes: false,
      divisible: 0,
      apply: () => this.inner.getDeliveryState(userId, chatId),
      describe: (state) => String(state?.lastAckedSequence ?? 0),
    });
  }

  listDeliveryStates(userId: UserId): Promise<DeliveryState[]> {
    return this.inner.listDeliveryStates(userId);
  }
}

/** One owner's producer on the shared log: each publish is a step (refused, or landed with its reply lost). */
export class ScheduledEventLog implements EventLog {
  constructor(
    private readonly inner: EventLog,
    private readonly owner: string,
    private readonly scheduler: StepScheduler,
  ) {}

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(topics);
  }

  partitionCount(topic: string): Promise<number> {
    return this.inner.partitionCount(topic);
  }

  publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    return this.scheduler.request({
      owner: this.owner,
      label: `publish seq ${records.map(sequenceOf).join(",")}`,
      writes: true,
      divisible: 0,
      apply: () => this.inner.publish(topic, records),
      describe: (published) => `offsets ${published[0]?.offset}..${published.at(-1)?.offset}`,
    });
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** The shared log stays open: the world closes it. */
  async close(): Promise<void> {}
}
