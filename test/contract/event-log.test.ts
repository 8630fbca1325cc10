import { describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/free-port.js";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { ManualClock, SystemClock } from "../../runtime/clock.js";
import { isAppError } from "../../runtime/errors.js";
import { partitionFor } from "../../runtime/partitioning.js";
import type { RecordBatch } from "../../runtime/ports/event-log.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { describeEventLogContract } from "./event-log.contract.js";

describeEventLogContract("in-process", async () => {
  // The real clock with a short pause: the contract waits for redelivery like it does on Kafka.
  const log = new InProcessEventLog({ clock: new SystemClock(), handlerRetryDelayMs: 20 });
  return { log, cleanup: () => log.close() };
});

const kafkaBrokers = engineEndpoint("kafka");
describe.skipIf(!kafkaBrokers)("kafka", () => {
  describeEventLogContract("kafka", async () => {
    const log = new KafkaEventLog({
      brokers: (kafkaBrokers ?? "").split(","),
      clientId: uniqueName("contract-"),
      handlerRetryDelayMs: 100,
    });
    return { log, cleanup: () => log.close() };
  });
});

describe("KafkaEventLog without a broker", () => {
  it("fails with SERVICE_UNAVAILABLE when no broker can be reached", async () => {
    const port = await freePort(); // free a moment ago: nothing listens there
    const log = new KafkaEventLog({ brokers: [`127.0.0.1:${port}`], clientId: "unreachable", retries: 0 });
    try {
      const unavailable = (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE";
      await expect(log.ping()).rejects.toSatisfy(unavailable);
      await expect(log.partitionCount("messages.persisted")).rejects.toSatisfy(unavailable);
      await expect(log.ensureTopics([{ name: "messages.persisted", partitions: 1 }])).rejects.toSatisfy(
        unavailable,
      );
    } finally {
      await log.close();
    }
  });
});

/** What only the in-process log can show: its pause runs on the injected clock, and partition hand-over. */
describe("InProcessEventLog", () => {
  /** Lets pending handler continuations run; no wall-clock time is involved. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it("redelivers a failed batch only once the retry pause has passed on the injected clock", async () => {
    const clock = new ManualClock();
    const log = new InProcessEventLog({ clock, handlerRetryDelayMs: 1_000 });
    await log.ensureTopics([{ name: "t", partitions: 1 }]);
    let attempts = 0;
    await log.subscribe({
      groupId: "g",
      topics: ["t"],
      fromBeginning: true,
      handle: async () => {
        attempts++;
        if (attempts === 1) throw new Error("first attempt fails");
      },
    });
    await log.publish("t", [{ key: "chat_1", value: new Uint8Array([1]) }]);
    await waitFor(() => attempts === 1, { what: "the first attempt" });
    for (let i = 0; i < 5; i++) await settle();
    clock.advance(999);
    for (let i = 0; i < 5; i++) await settle();
    expect(attempts).toBe(1);
    clock.advance(1);
    await waitFor(() => attempts === 2, { what: "the redelivery" });
    await log.close();
  });

  it("hands a partition to a joining subscription only after the previous holder's batch finished", async () => {
    const log = new InProcessEventLog({ clock: new ManualClock() });
    await log.ensureTopics([{ name: "t", partitions: 2 }]);
    // Partition 1 goes to the second member once it joins (round-robin over [first, second]).
    const key = Array.from({ length: 50 }, (_, i) => `chat_${i}`).find((k) => partitionFor(k, 2) === 1) ?? "";
    let release: () => void = () => {};
    const firstBatches: RecordBatch[] = [];
    await log.subscribe({
      groupId: "g",
      topics: ["t"],
      fromBeginning: true,
      handle: (batch) => {
        firstBatches.push(batch);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await log.publish("t", [{ key, value: new Uint8Array([0]) }]);
    await waitFor(() => firstBatches.length === 1, { what: "the first holder's batch" });

    const secondOffsets: string[] = [];
    await log.subscribe({
      groupId: "g",
      topics: ["t"],
      fromBeginning: true,
      handle: async (batch) => {
        secondOffsets.push(...batch.records.map((consumed) => consumed.offset));
      },
    });
    await log.publish("t", [{ key, value: new Uint8Array([1]) }]);
    for (let i = 0; i < 5; i++) await settle();
    expect(secondOffsets).toEqual([]); // the first holder is still busy with offset 0
    release();
    await waitFor(() => secondOffsets.length === 1, { what: "the hand-over" });
    expect(secondOffsets).toEqual(["1"]); // offset 0 was committed by the first holder, not redelivered
    expect(firstBatches).toHaveLength(1);
    await log.close();
  });
});
