import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INGEST_DEFAULTS, type IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { defaultCacheDir, type RunningEngine } from "../../deploy/local/engine.js";
import { startKafka } from "../../deploy/local/kafka.js";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { decodeEnvelope, messagePersistedPayload } from "../../runtime/events.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type {
  EventLog,
  EventRecord,
  PublishedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../runtime/ports/event-log.js";
import { TOPICS } from "../../runtime/topics.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");

/** No sleeping on our own timers, but a send during an outage must still answer about as fast as ever (D1). */
const PROMPT_ACK_BOUND_MS = 5_000;
/**
 * A broker that accepts connections but never answers is given up on after the request timeout, times the
 * attempts: with REQUEST_TIMEOUT_MS and no retry, about 3 s. A "long" outage outlasts that;
 * this is the deadline for it to happen.
 */
const REQUEST_TIMEOUT_MS = 3_000;
const CLIENT_GIVES_UP_MS = 60_000;
/** After the broker is back: reconnecting, a fresh consumer group joining, and the outbox's retries. */
const RECOVERY_MS = 30_000;

/** The event log under test, counting publish attempts and failures (it changes nothing). */
class ObservedEventLog implements EventLog {
  attempts = 0;
  failures = 0;

  constructor(private readonly inner: EventLog) {}

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(topics);
  }

  partitionCount(topic: string): Promise<number> {
    return this.inner.partitionCount(topic);
  }

  async publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    this.attempts++;
    try {
      return await this.inner.publish(topic, records);
    } catch (error) {
      this.failures++;
      throw error;
    }
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * D1/D4 with a real outage: a dedicated Kafka broker, paused with SIGSTOP (it keeps accepting connections but
 * answers nothing, like a hung or partitioned broker) while clients send. Sends must keep being acknowledged
 * promptly (ACK = durability, never blocked by publication), and once the broker is back every sequence of
 * the chat must reach a consumer, in order of first appearance. Storage is the shared dynalite; only the
 * clock is fake.
 */
describe.skipIf(!dynamodb || !kafka)("Kafka outage during sends", () => {
  let engine: RunningEngine | undefined;
  let fixture: IngestFixture;
  let paused = false;
  /** An interrupted run must not leave a stopped JVM behind: resume and kill our own broker by its pid. */
  const lastResort = () => {
    if (engine?.pid === undefined) return;
    for (const signal of ["SIGCONT", "SIGKILL"] as const) {
      try {
        process.kill(engine.pid, signal);
      } catch {
        // already gone
      }
    }
  };

  const pauseBroker = () => {
    process.kill(engine?.pid as number, "SIGSTOP");
    paused = true;
  };
  const resumeBroker = () => {
    if (!paused || engine?.pid === undefined) return;
    process.kill(engine.pid, "SIGCONT");
    paused = false;
  };

  beforeAll(async () => {
    engine = await startKafka({ cacheDir: defaultCacheDir(), progress: () => {} });
    if (engine.pid === undefined) throw new Error("the dedicated broker has no pid to pause");
    process.on("exit", lastResort);
    // The fixture's own log (the shared broker) is not used here: every runtime below gets the dedicated one.
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
    const setup = new KafkaEventLog({ brokers: [engine.endpoint], clientId: uniqueName("outage-setup-") });
    try {
      await setup.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 8 }]);
    } finally {
      await setup.close();
    }
  }, 180_000);

  afterAll(async () => {
    resumeBroker();
    await fixture?.cleanup();
    await engine?.stop();
    process.off("exit", lastResort);
  }, 120_000);

  const send = (chatId: ChatId, senderId: UserId, content: string) => ({
    chatId,
    senderId,
    clientMessageId: randomUUID(),
    content,
    contentType: "text/plain" as const,
  });

  interface OutageRuntime {
    readonly ingest: IngestService;
    readonly log: ObservedEventLog;
    readonly chatId: ChatId;
    readonly users: readonly [UserId, UserId];
  }

  /** An ingest process on the fixture's DynamoDB whose event log is the dedicated broker; always closed. */
  async function withOutageRuntime(work: (runtime: OutageRuntime) => Promise<void>): Promise<void> {
    if (engine === undefined) throw new Error("no dedicated broker");
    // retries: 0 makes kafkajs give up after one attempt.
    const log = new ObservedEventLog(
      new KafkaEventLog({
        brokers: [engine.endpoint],
        clientId: uniqueName("outage-ingest-"),
        retries: 0,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    const ingest = fixture.runtime({ eventLog: log });
    const users = [fixture.ids.user(), fixture.ids.user()] as const;
    const chatId = await fixture.chatWith(users);
    try {
      await work({ ingest, log, chatId, users });
    } finally {
      resumeBroker();
      await ingest.shutdown();
      await log.close();
    }
  }

  /** Sends `count` messages one by one, expecting `first`, `first+1`, …; returns each ack's latency in ms. */
  async function sendTimed(runtime: OutageRuntime, first: number, count: number): Promise<number[]> {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const sender = runtime.users[i % 2] as UserId;
      const startedAt = performance.now();
      const result = await runtime.ingest.persist(send(runtime.chatId, sender, `during the outage ${i}`));
      latencies.push(performance.now() - startedAt);
      expect(result.sequence).toBe(first + i);
    }
    return latencies;
  }

  function report(what: string, latencies: readonly number[]): void {
    const format = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(
      `[kafka-outage] ${what}: ${latencies.length} acks while the broker was stopped, ` +
        `p50 ${format(percentile(latencies, 50))}, max ${format(Math.max(...latencies))}`,
    );
    for (const latency of latencies) expect(latency).toBeLessThan(PROMPT_ACK_BOUND_MS);
  }

  /** Publication is stuck below `tail` while the broker is stopped, and storage has every acked message. */
  async function expectDurableButUnpublished(runtime: OutageRuntime, publishedThrough: number, tail: number) {
    expect(runtime.ingest.sequencerOf(runtime.chatId)?.position).toMatchObject({ tail, publishedThrough });
    const page = await runtime.ingest.sync({
      chatId: runtime.chatId,
      userId: runtime.users[1],
      afterSequence: 0,
      limit: 500,
    });
    expect(page.messages.map((message) => message.sequence)).toEqual(range(1, tail));
  }

  /**
   * A consumer on the dedicated broker, from the beginning, in a group of its own; advances the ManualClock
   * past the outbox's retry pause on every poll until it has seen 1..tail of the chat, then checks their order
   * of first appearance (duplicates are allowed on the log, D4). The clock moves less than the idle timeout in
   * all: an idle passivation drains the outbox, and must not stand in for the retry under test.
   */
  async function expectEventuallyPublished(runtime: OutageRuntime, tail: number): Promise<void> {
    const consumerLog = new KafkaEventLog({
      brokers: [(engine as RunningEngine).endpoint],
      clientId: uniqueName("outage-consumer-"),
      maxWaitTimeMs: 100,
    });
    const arrivals: number[] = [];
    try {
      await consumerLog.subscribe({
        groupId: uniqueName("outage-consumer-"),
        topics: [TOPICS.messagesPersisted],
        fromBeginning: true,
        handle: async (batch) => {
          for (const record of batch.records) {
            const event = messagePersistedPayload(decodeEnvelope(record.value));
            if (event.chat_id === runtime.chatId) arrivals.push(event.sequence);
          }
        },
      });
      const startedAt = Date.now();
      let advancedMs = 0;
      await waitFor(
        () => {
          if (advancedMs + INGEST_DEFAULTS.publishRetryMs < INGEST_DEFAULTS.idleTimeoutMs / 2) {
            fixture.clock.advance(INGEST_DEFAULTS.publishRetryMs);
            advancedMs += INGEST_DEFAULTS.publishRetryMs;
          }
          return new Set(arrivals).size >= tail;
        },
        { timeoutMs: RECOVERY_MS, intervalMs: 100, what: `a consumer to see sequences 1..${tail}` },
      );
      console.log(
        `[kafka-outage] every event consumed ${Date.now() - startedAt} ms after the broker resumed`,
      );
      expect([...new Set(arrivals)]).toEqual(range(1, tail));
    } finally {
      await consumerLog.close();
    }
  }

  it("keeps acknowledging sends while the broker is stopped, and publishes every sequence in order once it is back", async () => {
    await withOutageRuntime(async (runtime) => {
      await sendTimed(runtime, 1, 3);
      await waitFor(() => runtime.ingest.sequencerOf(runtime.chatId)?.position.publishedThrough === 3, {
        what: "publication before the outage",
      });

      pauseBroker();
      report("short outage", await sendTimed(runtime, 4, 20));
      await expectDurableButUnpublished(runtime, 3, 23);
      resumeBroker();

      await expectEventuallyPublished(runtime, 23);
    });
  }, 120_000);

  it(
    "after publication has failed during a long outage, sends are still acknowledged and the outbox's retry on the clock publishes everything once the broker is back",
    async () => {
      await withOutageRuntime(async (runtime) => {
        await sendTimed(runtime, 1, 2);
        await waitFor(() => runtime.ingest.sequencerOf(runtime.chatId)?.position.publishedThrough === 2, {
          what: "publication before the outage",
        });

        pauseBroker();
        const latencies = await sendTimed(runtime, 3, 5);
        const outageStartedAt = Date.now();
        // The clock stands still meanwhile: only kafkajs's own request timeout runs.
        await waitFor(() => runtime.log.failures >= 1, {
          timeoutMs: CLIENT_GIVES_UP_MS,
          intervalMs: 250,
          what: "a publish to the stopped broker to fail",
        });
        console.log(
          `[kafka-outage] the first publish failed ${Date.now() - outageStartedAt} ms into the outage`,
        );
        // The chat's outbox now waits for its retry timer, and nothing else happens in that chat: only the
        // retry can publish it. The node keeps acknowledging sends meanwhile (another chat, same event log).
        const other: OutageRuntime = { ...runtime, chatId: await fixture.chatWith(runtime.users) };
        latencies.push(...(await sendTimed(other, 1, 5)));
        report("long outage", latencies);
        await expectDurableButUnpublished(runtime, 2, 7);
        await expectDurableButUnpublished(other, 0, 5);
        resumeBroker();

        await expectEventuallyPublished(runtime, 7);
        await expectEventuallyPublished(other, 5);
      });
    },
    CLIENT_GIVES_UP_MS + 2 * RECOVERY_MS + 60_000,
  );

  it(
    "a retry of an acknowledged, unpublished send publishes at once when the broker is back, without waiting for the retry pause (D4)",
    async () => {
      await withOutageRuntime(async (runtime) => {
        await sendTimed(runtime, 1, 1);
        await waitFor(() => runtime.ingest.sequencerOf(runtime.chatId)?.position.publishedThrough === 1, {
          what: "publication before the outage",
        });
        pauseBroker();
        const request = send(runtime.chatId, runtime.users[0], "acknowledged during the outage");
        const acked = await runtime.ingest.persist(request);
        expect(acked.sequence).toBe(2);
        await waitFor(() => runtime.log.failures >= 1, {
          timeoutMs: CLIENT_GIVES_UP_MS,
          intervalMs: 250,
          what: "a publish to the stopped broker to fail",
        });
        resumeBroker();
        // The clock stands still: the outbox's retry pause never ends by itself; only the retry can start it.
        expect(await runtime.ingest.persist(request)).toEqual({ ...acked, deduplicated: true });
        await waitFor(() => runtime.ingest.sequencerOf(runtime.chatId)?.position.publishedThrough === 2, {
          timeoutMs: RECOVERY_MS,
          what: "publication triggered by the retry",
        });
      });
    },
    CLIENT_GIVES_UP_MS + RECOVERY_MS + 60_000,
  );

  it(
    "a chat that goes idle during a long outage still has every acknowledged message published once the broker is back, without further activity",
    async () => {
      await withOutageRuntime(async (runtime) => {
        await sendTimed(runtime, 1, 2);
        await waitFor(() => runtime.ingest.sequencerOf(runtime.chatId)?.position.publishedThrough === 2, {
          what: "publication before the outage",
        });

        pauseBroker();
        report("outage before idling", await sendTimed(runtime, 3, 4));
        await expectDurableButUnpublished(runtime, 2, 6);
        // Nobody writes to the chat any more: its sequencer reaches its idle timeout while the broker is down.
        await waitFor(() => runtime.ingest.host.stateOf(runtime.chatId) === "ready.idle", {
          what: "an idle sequencer",
        });
        fixture.clock.advance(INGEST_DEFAULTS.idleTimeoutMs);
        // The publish that was in flight fails, and so does the attempt made while draining.
        await waitFor(() => runtime.log.failures >= 2, {
          timeoutMs: 2 * CLIENT_GIVES_UP_MS,
          intervalMs: 250,
          what: "two publishes to the stopped broker to fail",
        });
        resumeBroker();

        // D4 / invariant 5: eventually published, with no send, sync or retry in the chat to activate it.
        await expectEventuallyPublished(runtime, 6);
      });
    },
    2 * CLIENT_GIVES_UP_MS + RECOVERY_MS + 60_000,
  );
});
