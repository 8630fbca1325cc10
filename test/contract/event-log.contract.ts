import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAppError } from "../../runtime/errors.js";
import { partitionFor } from "../../runtime/partitioning.js";
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  RecordBatch,
  SubscribeOptions,
  Subscription,
} from "../../runtime/ports/event-log.js";
import { uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";

export interface EventLogFixture {
  readonly log: EventLog;
  cleanup(): Promise<void>;
}

/** Rebalances of a real broker take a few heartbeats; the in-process log is done in microseconds. */
const WAIT = { timeoutMs: 25_000 } as const;

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const record = (key: string, value: string, headers?: Record<string, string>): EventRecord =>
  headers === undefined ? { key, value: utf8.encode(value) } : { key, value: utf8.encode(value), headers };

/** Every batch a subscription was handed, and which of them its handler finished. */
class Deliveries {
  readonly batches: Array<{ batch: RecordBatch; ok: boolean }> = [];
  get handled(): ConsumedRecord[] {
    return this.batches.filter(({ ok }) => ok).flatMap(({ batch }) => batch.records);
  }
  get failures(): number {
    return this.batches.filter(({ ok }) => !ok).length;
  }
  values(): string[] {
    return this.handled.map((consumed) => text(consumed.value));
  }
  /** A handler that records each batch and fails it when `fail` says so. */
  handler(fail: (batch: RecordBatch) => boolean = () => false) {
    return async (batch: RecordBatch) => {
      const failed = fail(batch);
      this.batches.push({ batch, ok: !failed });
      if (failed)
        throw new Error(`handler refuses ${batch.topic}/${batch.partition}@${batch.records[0]?.offset}`);
    };
  }
}

/** One suite for every EventLog adapter: the in-process log and Kafka must behave the same. */
export function describeEventLogContract(adapterName: string, makeLog: () => Promise<EventLogFixture>): void {
  describe(`EventLog contract: ${adapterName}`, () => {
    let fixture: EventLogFixture;
    let subscriptions: Subscription[] = [];

    beforeEach(async () => {
      fixture = await makeLog();
    });
    afterEach(async () => {
      await Promise.allSettled(subscriptions.map((subscription) => subscription.stop()));
      subscriptions = [];
      await fixture.cleanup();
    });

    const log = () => fixture.log;
    const topicWith = async (partitions: number) => {
      const name = uniqueName("evlog-");
      await log().ensureTopics([{ name, partitions }]);
      return name;
    };
    const subscribe = async (options: SubscribeOptions) => {
      const subscription = await log().subscribe(options);
      subscriptions.push(subscription);
      return subscription;
    };

    it("puts every record of a key in partitionFor(key) and delivers it in publish order", async () => {
      const topic = await topicWith(4);
      const keys = ["chat_abc123", "chat_xyz789", "chat_000001"];
      const first = await log().publish(
        topic,
        [0, 1, 2].flatMap((n) => keys.map((key) => record(key, `${key}#${n}`))),
      );
      const second = await log().publish(
        topic,
        [3, 4].flatMap((n) => keys.map((key) => record(key, `${key}#${n}`))),
      );
      const published = [...first, ...second];
      expect(published).toHaveLength(15);
      const nextOffset = new Map<number, number>();
      for (const [index, entry] of published.entries()) {
        const key = keys[index % keys.length] ?? "";
        expect(entry.topic).toBe(topic);
        expect(entry.partition).toBe(partitionFor(key, 4));
        // Offsets are decimal strings, consecutive per partition from "0".
        expect(entry.offset).toBe(String(nextOffset.get(entry.partition) ?? 0));
        nextOffset.set(entry.partition, (nextOffset.get(entry.partition) ?? 0) + 1);
      }

      const seen = new Deliveries();
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: seen.handler(),
      });
      await waitFor(() => seen.handled.length >= 15, { ...WAIT, what: "15 records" });
      for (const key of keys) {
        const ofKey = seen.handled.filter((consumed) => consumed.key === key);
        expect(ofKey.map((consumed) => text(consumed.value))).toEqual(
          [0, 1, 2, 3, 4].map((n) => `${key}#${n}`),
        );
        expect(new Set(ofKey.map((consumed) => consumed.partition))).toEqual(new Set([partitionFor(key, 4)]));
      }
      for (const { batch } of seen.batches) {
        const offsets = batch.records.map((consumed) => Number(consumed.offset));
        expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] ?? 0) + i)); // consecutive, one partition
        expect(batch.records.every((consumed) => consumed.partition === batch.partition)).toBe(true);
      }
    });

    it("answers concurrent publishes, to several topics at once, with the offsets of their own records", async () => {
      const topics = [await topicWith(4), await topicWith(3)];
      // Callers publish at once, as a node's chats do: an adapter may carry them in one request.
      const calls = Array.from({ length: 40 }, (_, call) => {
        const topic = topics[call % 2] ?? "";
        const key = `chat_${call % 7}`;
        const values = Array.from({ length: 1 + (call % 3) }, (_, n) => `${topic}/${call}.${n}`);
        return {
          topic,
          values,
          published: log().publish(
            topic,
            values.map((value) => record(key, value)),
          ),
        };
      });
      const written = new Map<string, string>();
      for (const call of calls) {
        const published = await call.published;
        expect(published).toHaveLength(call.values.length);
        published.forEach((entry, n) => {
          expect(entry.topic).toBe(call.topic);
          written.set(`${entry.topic}/${entry.partition}@${entry.offset}`, call.values[n] ?? "");
        });
      }
      expect(written.size).toBe(calls.reduce((sum, call) => sum + call.values.length, 0));
      const seen = new Deliveries();
      await subscribe({ groupId: uniqueName("g-"), topics, fromBeginning: true, handle: seen.handler() });
      await waitFor(() => seen.handled.length >= written.size, { ...WAIT, what: `${written.size} records` });
      for (const consumed of seen.handled) {
        expect(text(consumed.value)).toBe(
          written.get(`${consumed.topic}/${consumed.partition}@${consumed.offset}`),
        );
      }
    });

    it("creates missing topics, leaves existing ones as they are, and reports their partition counts", async () => {
      const [a, b] = [uniqueName("evlog-"), uniqueName("evlog-")];
      await log().ensureTopics([{ name: a, partitions: 3 }]);
      await log().ensureTopics([
        { name: a, partitions: 5 },
        { name: b, partitions: 2 },
      ]);
      await log().ensureTopics([{ name: b, partitions: 2 }]);
      expect(await log().partitionCount(a)).toBe(3);
      expect(await log().partitionCount(b)).toBe(2);
    });

    it("answers NOT_FOUND for the partition count of, a publish to or a subscription to a missing topic", async () => {
      const missing = uniqueName("evlog-missing-");
      const notFound = (error: unknown) => isAppError(error) && error.code === "NOT_FOUND";
      await expect(log().partitionCount(missing)).rejects.toSatisfy(notFound);
      await expect(log().publish(missing, [record("chat_1", "x")])).rejects.toSatisfy(notFound);
      const handle = new Deliveries().handler();
      await expect(
        log().subscribe({ groupId: uniqueName("g-"), topics: [missing], fromBeginning: true, handle }),
      ).rejects.toSatisfy(notFound);
    });

    it("splits the partitions between two subscriptions of one group, which together see every record once", async () => {
      const topic = await topicWith(4);
      const groupId = uniqueName("g-");
      const [a, b] = [new Deliveries(), new Deliveries()];
      await subscribe({ groupId, topics: [topic], fromBeginning: true, handle: a.handler() });
      await subscribe({ groupId, topics: [topic], fromBeginning: true, handle: b.handler() });
      const keys = Array.from({ length: 40 }, (_, i) => `chat_${i}`);
      expect(new Set(keys.map((key) => partitionFor(key, 4))).size).toBe(4);
      await log().publish(
        topic,
        keys.map((key) => record(key, key)),
      );
      // A last record per partition: once each arrived, every earlier record of its partition was delivered.
      const sentinels = [0, 1, 2, 3].map((p) => keys.find((key) => partitionFor(key, 4) === p) ?? "");
      await log().publish(
        topic,
        sentinels.map((key) => record(key, `end-${key}`)),
      );
      await waitFor(() => a.handled.length + b.handled.length >= 44, { ...WAIT, what: "44 records" });

      const all = [...a.values(), ...b.values()].sort();
      expect(all).toEqual([...keys, ...sentinels.map((key) => `end-${key}`)].sort());
      const partitionsOf = (seen: Deliveries) => new Set(seen.handled.map((consumed) => consumed.partition));
      expect(partitionsOf(a).size).toBeGreaterThan(0);
      expect(partitionsOf(b).size).toBeGreaterThan(0);
      expect([...partitionsOf(a)].filter((p) => partitionsOf(b).has(p))).toEqual([]);
    });

    it("gives a second group every record, whatever the first group's handler does", async () => {
      const topic = await topicWith(2);
      const [failing, healthy] = [new Deliveries(), new Deliveries()];
      const handle = failing.handler(() => true);
      await subscribe({ groupId: uniqueName("g-"), topics: [topic], fromBeginning: true, handle });
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: healthy.handler(),
      });
      const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
      await log().publish(
        topic,
        values.map((value, i) => record(`chat_${i % 3}`, value)),
      );
      await waitFor(() => healthy.handled.length >= 10, { ...WAIT, what: "the second group's records" });
      expect(healthy.values().sort()).toEqual(values.sort());
      expect(failing.failures).toBeGreaterThan(0);
      expect(failing.handled).toEqual([]);
    });

    it("redelivers the records of a failed batch, and later records of its partition wait until it succeeds", async () => {
      const topic = await topicWith(2);
      const seen = new Deliveries();
      const errors: Array<{ error: unknown; batch: RecordBatch }> = [];
      const refuseThird = (batch: RecordBatch) =>
        seen.failures < 2 && batch.records.some((consumed) => text(consumed.value) === "m2");
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: seen.handler(refuseThird),
        onHandlerError: (error, batch) => errors.push({ error, batch }),
      });
      await log().publish(
        topic,
        [0, 1, 2, 3, 4, 5].map((n) => record("chat_retry", `m${n}`)),
      );
      await waitFor(() => seen.failures >= 1, { ...WAIT, what: "the first failure" });
      await log().publish(
        topic,
        [6, 7].map((n) => record("chat_retry", `m${n}`)),
      );
      await waitFor(() => seen.handled.length >= 8, { ...WAIT, what: "all eight records" });

      expect(seen.values()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => `m${n}`));
      expect(seen.failures).toBe(2);
      expect(errors.map(({ batch }) => batch)).toEqual(
        seen.batches.filter(({ ok }) => !ok).map(({ batch }) => batch),
      );
      // Every batch, failed or not, starts at the first record not yet handled: nothing passes a failure.
      let nextUnhandled = 0;
      for (const { batch, ok } of seen.batches) {
        expect(batch.records[0]?.offset).toBe(String(nextUnhandled));
        if (ok) nextUnhandled += batch.records.length;
      }
    });

    it("resumes a group after stop() at its last committed record: handled ones are not redelivered, the failed one is", async () => {
      const topic = await topicWith(1);
      const groupId = uniqueName("g-");
      const first = new Deliveries();
      const poisoned = (batch: RecordBatch) =>
        batch.records.some((consumed) => text(consumed.value) === "r2");
      const subscription = await subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        handle: first.handler(poisoned),
      });
      for (const value of ["r0", "r1"]) {
        await log().publish(topic, [record("chat_resume", value)]);
        await waitFor(() => first.values().includes(value), { ...WAIT, what: value });
      }
      await log().publish(topic, [record("chat_resume", "r2")]);
      await waitFor(() => first.failures >= 1, { ...WAIT, what: "the failure on r2" });
      await subscription.stop();

      const second = new Deliveries();
      await subscribe({ groupId, topics: [topic], fromBeginning: true, handle: second.handler() });
      await log().publish(topic, [record("chat_resume", "r3")]);
      await waitFor(() => second.handled.length >= 2, { ...WAIT, what: "r2 and r3 in the new subscription" });
      expect(first.values()).toEqual(["r0", "r1"]);
      expect(second.values()).toEqual(["r2", "r3"]);
    });

    it("waits in stop() for the running handler and commits the batch it finished", async () => {
      const topic = await topicWith(1);
      const groupId = uniqueName("g-");
      let release: () => void = () => {};
      const started: RecordBatch[] = [];
      const subscription = await subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        handle: (batch) => {
          started.push(batch);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      });
      await log().publish(topic, [record("chat_stop", "s0")]);
      await waitFor(() => started.length === 1, { ...WAIT, what: "the handler to start" });
      let stopped = false;
      const stopping = subscription.stop().then(() => {
        stopped = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      release();
      await stopping;

      const next = new Deliveries();
      await subscribe({ groupId, topics: [topic], fromBeginning: true, handle: next.handler() });
      await log().publish(topic, [record("chat_stop", "s1")]);
      await waitFor(() => next.handled.length >= 1, { ...WAIT, what: "s1" });
      expect(next.values()).toEqual(["s1"]);
      expect(started).toHaveLength(1);
    });

    it("round-trips keys, bytes and headers, and a record without headers arrives with none", async () => {
      const topic = await topicWith(3);
      const headers = { "x-processing-attempts": "2", trace_id: "äöü 🎉", empty: "" };
      const bytes = new Uint8Array([0, 255, 128, 10, 13]);
      const before = Date.now();
      await log().publish(topic, [
        { key: "chat_测试", value: bytes, headers },
        { key: "chat_plain", value: utf8.encode("plain") },
      ]);
      const seen = new Deliveries();
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: seen.handler(),
      });
      await waitFor(() => seen.handled.length >= 2, { ...WAIT, what: "two records" });
      const withHeaders = seen.handled.find((consumed) => consumed.key === "chat_测试");
      const plain = seen.handled.find((consumed) => consumed.key === "chat_plain");
      expect(withHeaders?.headers).toEqual(headers);
      expect(withHeaders?.value).toEqual(bytes);
      expect(withHeaders?.topic).toBe(topic);
      expect(plain?.headers).toEqual({});
      expect(text(plain?.value ?? new Uint8Array())).toBe("plain");
      // Epoch ms at which the log accepted it (generous bounds: clocks of a broker and a test differ a little).
      expect(withHeaders?.timestamp).toBeGreaterThanOrEqual(before - 5_000);
      expect(withHeaders?.timestamp).toBeLessThanOrEqual(Date.now() + 5_000);
    });

    it("starts a new group with fromBeginning false after the records published before it subscribed", async () => {
      const topic = await topicWith(1);
      await log().publish(
        topic,
        ["old0", "old1", "old2"].map((value) => record("chat_old", value)),
      );
      const [late, early] = [new Deliveries(), new Deliveries()];
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: false,
        handle: late.handler(),
      });
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: early.handler(),
      });
      await log().publish(
        topic,
        ["new0", "new1"].map((value) => record("chat_old", value)),
      );
      // One partition: had the old records been delivered, they would have come before the new ones.
      await waitFor(() => late.handled.length >= 2 && early.handled.length >= 5, {
        ...WAIT,
        what: "new records",
      });
      expect(late.values()).toEqual(["new0", "new1"]);
      expect(early.values()).toEqual(["old0", "old1", "old2", "new0", "new1"]);
    });

    it("stops every subscription on close() and refuses later calls with SERVICE_UNAVAILABLE", async () => {
      const topic = await topicWith(1);
      const seen = new Deliveries();
      await subscribe({
        groupId: uniqueName("g-"),
        topics: [topic],
        fromBeginning: true,
        handle: seen.handler(),
      });
      await log().publish(topic, [record("chat_close", "before")]);
      await waitFor(() => seen.handled.length >= 1, { ...WAIT, what: "the record before close" });
      await expect(log().ping()).resolves.toBeUndefined();
      await log().close();
      const unavailable = (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE";
      await expect(log().ping()).rejects.toSatisfy(unavailable);
      await expect(log().publish(topic, [record("chat_close", "after")])).rejects.toSatisfy(unavailable);
      await expect(
        log().subscribe({
          groupId: uniqueName("g-"),
          topics: [topic],
          fromBeginning: true,
          handle: seen.handler(),
        }),
      ).rejects.toSatisfy(unavailable);
    });
  });
}
