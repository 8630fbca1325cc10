import { afterAll, describe, expect, it } from "vitest";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { KafkaOffsets } from "../../runtime/adapters/kafka/kafka-offsets.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { ManualClock } from "../../runtime/clock.js";
import { ConsumerLag } from "../../runtime/metrics/consumer-lag.js";
import { PublishedOffsets } from "../../runtime/metrics/published-offsets.js";
import { partitionFor } from "../../runtime/partitioning.js";
import type { EventRecord, Subscription } from "../../runtime/ports/event-log.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";

const kafka = engineEndpoint("kafka");

/** `count` records whose keys all land in `partition` of a topic with `partitions` partitions. */
function recordsFor(partition: number, partitions: number, count: number): EventRecord[] {
  const records: EventRecord[] = [];
  for (let i = 0; records.length < count && i < 10_000; i++) {
    const key = `chat_${partition}_${i}`;
    if (partitionFor(key, partitions) === partition) records.push({ key, value: new Uint8Array([i % 256]) });
  }
  return records;
}

describe("consumer lag on the in-process log", () => {
  it("is what was published minus what the worker finished, per partition, cached for cacheMs", async () => {
    const clock = new ManualClock();
    const log = new InProcessEventLog({ clock });
    const topic = "messages.persisted";
    await log.ensureTopics([{ name: topic, partitions: 4 }]);
    const published = new PublishedOffsets();
    published.record(await log.publish(topic, recordsFor(0, 4, 5)));
    published.record(await log.publish(topic, recordsFor(2, 4, 3)));
    const finished = new Map<number, string>([[0, "2"]]);
    const lag = new ConsumerLag({
      topic,
      source: published,
      positions: () => finished,
      clock,
      cacheMs: 5_000,
    });

    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 3, 2: 3 });
    finished.set(0, "5").set(2, "3");
    // Within cacheMs the reading is served again; after it, read anew.
    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 3, 2: 3 });
    clock.advance(5_000);
    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 0, 2: 0 });
    await log.close();
  });
});

describe.skipIf(!kafka)("consumer lag on Kafka", () => {
  const brokers = (kafka ?? "").split(",");
  const closers: Array<() => Promise<void>> = [];

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  });

  it("reads the end and the group's commits from the brokers; the worker's own progress counts first", async () => {
    const topic = uniqueName("metrics-lag-");
    const groupId = uniqueName("metrics-lag-group-");
    const log = new KafkaEventLog({ brokers, clientId: uniqueName("metrics-lag-") });
    closers.push(() => log.close());
    await log.ensureTopics([{ name: topic, partitions: 2 }]);
    await log.publish(topic, [...recordsFor(0, 2, 4), ...recordsFor(1, 2, 2)]);

    const offsets = new KafkaOffsets({ brokers, clientId: uniqueName("metrics-admin-"), groupId });
    closers.push(() => offsets.close());
    const clock = new ManualClock();
    const finished = new Map<number, string>();
    const lag = new ConsumerLag({ topic, source: offsets, positions: () => finished, clock, cacheMs: 0 });
    // No commit yet: everything retained is unprocessed.
    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 4, 1: 2 });

    // The group consumes and commits everything.
    let handled = 0;
    const subscription: Subscription = await log.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (batch) => {
        handled += batch.records.length;
      },
    });
    await waitFor(async () => handled >= 6 || undefined, { timeoutMs: 30_000, what: "six records handled" });
    await subscription.stop();
    await waitFor(
      async () => {
        const now = Object.fromEntries(await lag.read());
        return now[0] === 0 && now[1] === 0 ? now : undefined;
      },
      { timeoutMs: 15_000, what: "the commits to show" },
    );

    // New records: lag again, until the local worker reports it finished them (ahead of any commit).
    await log.publish(topic, recordsFor(1, 2, 3));
    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 0, 1: 3 });
    finished.set(1, "5");
    expect(Object.fromEntries(await lag.read())).toEqual({ 0: 0, 1: 0 });
  });
});
