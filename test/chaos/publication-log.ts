import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { KafkaOffsets } from "../../runtime/adapters/kafka/kafka-offsets.js";
import { decodeEnvelope, messagePersistedPayload } from "../../runtime/events.js";
import type { Subscription } from "../../runtime/ports/event-log.js";
import { TOPICS } from "../../runtime/topics.js";
import { uniqueName } from "../support/engines.js";
import type { PublishedEvent } from "./checker.js";

interface LoggedEvent {
  readonly event: PublishedEvent;
  readonly partition: number;
  readonly offset: bigint;
}

/** End offset (one past the last record) of each partition. */
type Ends = ReadonlyMap<number, bigint>;

/** What the log held when the settle window closed, and how the window ended. */
export interface SettledLog {
  readonly published: readonly PublishedEvent[];
  readonly waitedMs: number;
  /** True when the log stopped growing; false when the bound ended the window while it still grew. */
  readonly quiet: boolean;
}

const POLL_MS = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `messages.persisted` as the checker sees it: read from the beginning by a consumer group of its own, the
 * run's chats' events kept in log order (records read again after the reader's own rebalance are skipped by
 * offset), and the partitions' end offsets, to tell when the reader has caught up and when the log stopped
 * growing. It sees the topic only: what a fanout worker or a gateway did with an event is the clients' record.
 */
export class PublicationLog {
  private readonly logged: LoggedEvent[] = [];
  /** Per partition: one past the highest offset read, of any record. */
  private readonly readUpTo = new Map<number, bigint>();
  private subscription: Subscription | undefined;

  private constructor(
    private readonly log: KafkaEventLog,
    private readonly offsets: KafkaOffsets,
  ) {}

  static async open(brokers: string, chats: ReadonlySet<string>): Promise<PublicationLog> {
    const groupId = uniqueName("chaos-checker-");
    const list = brokers.split(",");
    const reader = new PublicationLog(
      new KafkaEventLog({ brokers: list, clientId: groupId }),
      new KafkaOffsets({ brokers: list, clientId: `${groupId}-offsets`, groupId }),
    );
    reader.subscription = await reader.log.subscribe({
      groupId,
      topics: [TOPICS.messagesPersisted],
      fromBeginning: true,
      handle: async (batch) => {
        for (const record of batch.records) {
          const offset = BigInt(record.offset);
          if (offset < (reader.readUpTo.get(record.partition) ?? 0n)) continue;
          reader.readUpTo.set(record.partition, offset + 1n);
          try {
            const payload = messagePersistedPayload(decodeEnvelope(record.value));
            if (!chats.has(payload.chat_id)) continue;
            reader.logged.push({
              partition: record.partition,
              offset,
              event: {
                chatId: payload.chat_id,
                sequence: payload.sequence,
                messageId: payload.message_id,
                content: payload.content,
              },
            });
          } catch {
            // a poison record is fanout's business, not a publication of ours
          }
        }
      },
    });
    return reader;
  }

  /** Every event read so far, in log order. */
  events(): PublishedEvent[] {
    return this.logged.map((entry) => entry.event);
  }

  /**
   * The settle window: waits until the log's end has not moved for `quietMs` and the reader has read up to it,
   * or until `maxMs` passed; returns what the log held then (read to that end first, so nothing published
   * before the window closed is missing).
   */
  async settle(quietMs: number, maxMs: number): Promise<SettledLog> {
    const started = Date.now();
    let ends: Ends = await this.ends().catch(() => new Map());
    let movedAt = started;
    for (;;) {
      await sleep(POLL_MS);
      const now = Date.now();
      const next = await this.ends().catch(() => undefined);
      if (next === undefined || !sameEnds(next, ends)) movedAt = now;
      if (next !== undefined) ends = next;
      if (this.hasRead(ends) && now - movedAt >= quietMs)
        return { published: this.upTo(ends), waitedMs: now - started, quiet: true };
      if (now - started >= maxMs) break;
    }
    const waitedMs = Date.now() - started;
    await this.until(() => this.hasRead(ends), maxMs);
    return { published: this.upTo(ends), waitedMs, quiet: false };
  }

  /** Waits until `done(events)` holds and the reader has read the log to its end, or `timeoutMs` passed. */
  async catchUp(done: (events: readonly PublishedEvent[]) => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.until(() => done(this.events()), timeoutMs);
    const ends = await this.ends().catch(() => undefined);
    if (ends !== undefined) await this.until(() => this.hasRead(ends), Math.max(0, deadline - Date.now()));
  }

  async close(): Promise<void> {
    await this.subscription?.stop();
    await this.offsets.close();
    await this.log.close();
  }

  private async ends(): Promise<Ends> {
    const offsets = await this.offsets.offsets(TOPICS.messagesPersisted);
    return new Map([...offsets].map(([partition, { end }]) => [partition, end]));
  }

  private hasRead(ends: Ends): boolean {
    return [...ends].every(([partition, end]) => (this.readUpTo.get(partition) ?? 0n) >= end);
  }

  private upTo(ends: Ends): PublishedEvent[] {
    return this.logged
      .filter((entry) => entry.offset < (ends.get(entry.partition) ?? 0n))
      .map((entry) => entry.event);
  }

  private async until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await sleep(POLL_MS);
  }
}

function sameEnds(a: Ends, b: Ends): boolean {
  return a.size === b.size && [...a].every(([partition, end]) => b.get(partition) === end);
}
