import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArmedFailpoints,
  type Failpoints,
  SimulatedCrash,
  WRITE_STEPS,
  type WriteStep,
} from "../../actors/chat-sequencer/failpoints.js";
import { INGEST_DEFAULTS, type IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { isAppError } from "../../runtime/errors.js";
import {
  decodeEnvelope,
  type MessagePersistedPayload,
  messagePersistedPayload,
} from "../../runtime/events.js";
import { type ChatId, toSequence, type UserId } from "../../runtime/ids.js";
import type { PersistRequest, PersistResult } from "../../runtime/ingest-api.js";
import type { EventLog, Subscription } from "../../runtime/ports/event-log.js";
import { TOPICS } from "../../runtime/topics.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");

/** The steps at which the client has its ack when the crash comes (D1: the message is already durable). */
const ACKED_STEPS: readonly WriteStep[] = [
  "after-ack-before-publication",
  "during-publication",
  "after-index-write",
];

/** An ArmedFailpoints that also records where it crashed: the publication crash comes after the ack. */
class CrashRecorder implements Failpoints {
  readonly armed = new ArmedFailpoints();
  crashedAt: WriteStep | undefined;

  hit(step: WriteStep): void {
    try {
      this.armed.hit(step);
    } catch (error) {
      if (error instanceof SimulatedCrash) this.crashedAt = step;
      throw error;
    }
  }
}

/** MessagePersisted events with the producer that published them, to tell a republication from the original. */
interface SeenEvent {
  readonly producerId: string;
  readonly payload: MessagePersistedPayload;
}

async function collectWithProducers(
  log: EventLog,
): Promise<{ seen: SeenEvent[]; subscription: Subscription }> {
  const seen: SeenEvent[] = [];
  const subscription = await log.subscribe({
    groupId: uniqueName("crash-observer-"),
    topics: [TOPICS.messagesPersisted],
    fromBeginning: false,
    handle: async (batch) => {
      for (const record of batch.records) {
        const envelope = decodeEnvelope(record.value);
        seen.push({ producerId: envelope.producer_id, payload: messagePersistedPayload(envelope) });
      }
    },
  });
  return { seen, subscription };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * ARCHITECTURE.md D2/D4: a process crash at each step boundary of the write path (claim, message write, ack,
 * publication), on dynalite and Kafka with the ManualClock. The crashed runtime is abandoned as a dead process
 * would be (never called again, never drained); a fresh runtime on the same storage and log takes over.
 */
describe.skipIf(!dynamodb || !kafka)("crash at every step boundary of the write path", () => {
  let fixture: IngestFixture;
  let observer: { seen: SeenEvent[]; subscription: Subscription };

  const send = (chatId: ChatId, senderId: UserId, content: string, clientMessageId: string = randomUUID()) =>
    ({ chatId, senderId, clientMessageId, content, contentType: "text/plain" }) satisfies PersistRequest;

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
    observer = await collectWithProducers(fixture.eventLog);
  });
  afterAll(async () => {
    await observer?.subscription.stop();
    await fixture?.cleanup();
  });

  /** A live runtime with a known producer id; shut down (drained) when the test ends. */
  async function withFreshRuntime(work: (ingest: IngestService, producerId: string) => Promise<void>) {
    const producerId = uniqueName("fresh-");
    const ingest = fixture.runtime({ producerId });
    try {
      await work(ingest, producerId);
    } finally {
      await ingest.shutdown();
    }
  }

  /**
   * A dead process: its sequencers' background work (outbox loops, retry timers) stops, and nothing of it is
   * called again. No shutdown: that would drain, which a crashed process never does.
   */
  function abandon(crashed: IngestService): void {
    for (const chatId of crashed.host.activeKeys()) crashed.sequencerOf(chatId)?.dispose();
  }

  interface Crash {
    /** What the crashed runtime answered the send: a result for the acked steps, an error before. */
    readonly outcome: PersistResult | unknown;
    /** The message_id stored for the send, when the crash came after its block put. */
    readonly messageId: string | undefined;
  }

  /**
   * On a runtime that will crash: `warmUp` sends that succeed and are published, then the send of
   * `clientMessageId`, with the failpoint armed at `step`; the runtime is then abandoned.
   */
  async function crashDuringSend(
    step: WriteStep,
    chatId: ChatId,
    sender: UserId,
    clientMessageId: string,
    warmUp: readonly UserId[],
  ): Promise<Crash> {
    const failpoints = new CrashRecorder();
    const doomed = fixture.runtime({ failpoints, producerId: uniqueName("doomed-") });
    for (const [index, user] of warmUp.entries()) {
      expect((await doomed.persist(send(chatId, user, `warm-up ${index}`))).sequence).toBe(index + 1);
    }
    // Armed only once the warm-up is published, so the publication failpoint can only hit our send.
    await waitFor(() => doomed.sequencerOf(chatId)?.position.publishedThrough === warmUp.length, {
      what: "the warm-up published",
    });
    failpoints.armed.arm(step);
    const outcome = await doomed.persist(send(chatId, sender, "the crashed send", clientMessageId)).then(
      (result) => result,
      (error: unknown) => error,
    );
    const sequence = warmUp.length + 1;
    // The index is written behind the ack once its pause has passed.
    if (step === "after-index-write") fixture.clock.advance(INGEST_DEFAULTS.indexDelayMs);
    if (ACKED_STEPS.includes(step)) {
      expect(outcome).toMatchObject({ sequence, deduplicated: false });
    } else {
      expect(isAppError(outcome) && outcome.code === "SERVICE_UNAVAILABLE").toBe(true);
    }
    // The publication crash happens in the outbox's loop, after the ack.
    await waitFor(() => failpoints.crashedAt === step, { what: `the crash at ${step}` });
    abandon(doomed);

    // The crash left exactly the state of its step boundary behind.
    const stored = await fixture.messageStore.getMessage(chatId, toSequence(sequence));
    const [record] = await fixture.messageStore.getIndexRecords([{ chatId, clientMessageId }]);
    const counters = await fixture.messageStore.getCounters(chatId);
    if (step === "after-lookup") {
      expect(stored).toBeUndefined();
      expect(record).toBeUndefined();
    } else {
      expect(stored).toMatchObject({ clientMessageId });
      // D16: the index is written behind the ack; indexed_through never passes a block without its records.
      if (step === "after-index-write")
        expect(record).toMatchObject({ sequence, messageId: stored?.messageId });
      // (A crash during publication may come after the watermark passed the block.)
      if (step !== "during-publication") expect(counters?.indexedThrough ?? 0).toBeLessThan(sequence);
    }
    return { outcome, messageId: stored?.messageId };
  }

  /** Storage and sync agree: sequences 1..n without a gap, and exactly one message of `clientMessageId`. */
  async function expectOneCopyNoGap(
    ingest: IngestService,
    chatId: ChatId,
    reader: UserId,
    clientMessageId: string,
    n: number,
  ): Promise<number> {
    const stored = await fixture.messageStore.readMessages(chatId, { limit: 1000, order: "asc" });
    expect(stored.map((message) => message.sequence)).toEqual(range(n));
    const copies = stored.filter((message) => message.clientMessageId === clientMessageId);
    expect(copies).toHaveLength(1);
    const page = await ingest.sync({ chatId, userId: reader, afterSequence: 0, limit: 500 });
    expect(page.messages.map((message) => message.sequence)).toEqual(range(n));
    expect(page).toMatchObject({ hasMore: false, lastSequence: n });
    return (copies[0] as (typeof copies)[number]).sequence;
  }

  const eventsOf = (chatId: ChatId) => observer.seen.filter((event) => event.payload.chat_id === chatId);

  /** Waits until the fixture's consumer has seen 1..n for the chat (at least once each, duplicates allowed). */
  async function expectPublished(chatId: ChatId, n: number): Promise<void> {
    await waitFor(() => fixture.events.sequencesOf(chatId).length >= n, { what: `events 1..${n}` });
    expect(fixture.events.sequencesOf(chatId)).toEqual(range(n));
  }

  /** Waits until the given producer (the fresh runtime) has published `sequence` of the chat. */
  async function expectPublishedBy(producerId: string, chatId: ChatId, sequence: number): Promise<void> {
    await waitFor(
      () =>
        eventsOf(chatId).some(
          (event) => event.producerId === producerId && event.payload.sequence === sequence,
        ),
      { what: `sequence ${sequence} published by ${producerId}` },
    );
  }

  for (const step of WRITE_STEPS) {
    const acked = ACKED_STEPS.includes(step);
    it(`crash ${step}: the send is ${acked ? "acknowledged" : "refused"}; its retry on a fresh runtime returns one sequence, stored once, gap-free and published`, async () => {
      const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
      const chatId = await fixture.chatWith([alice, bob]);
      const clientMessageId = randomUUID();
      const crash = await crashDuringSend(step, chatId, alice, clientMessageId, [alice, bob]);

      await withFreshRuntime(async (ingest, producerId) => {
        const retry = await ingest.persist(send(chatId, alice, "the retry", clientMessageId));
        // The stored block decides: same sequence and message_id as the crashed attempt when it was stored.
        expect(retry.sequence).toBe(3);
        if (crash.messageId !== undefined) expect(retry.messageId).toBe(crash.messageId);
        expect(retry.deduplicated).toBe(step !== "after-lookup");
        if (acked) expect(retry).toEqual({ ...(crash.outcome as PersistResult), deduplicated: true });
        // Published by the new runtime before anything else happens in the chat (D4).
        await expectPublishedBy(producerId, chatId, 3);
        // A second retry, now from memory, still agrees.
        expect(await ingest.persist(send(chatId, alice, "again", clientMessageId))).toMatchObject({
          sequence: 3,
          messageId: retry.messageId,
          deduplicated: true,
        });
        expect((await ingest.persist(send(chatId, bob, "after the crash"))).sequence).toBe(4);

        expect(await expectOneCopyNoGap(ingest, chatId, bob, clientMessageId, 4)).toBe(3);
        const [stored] = await fixture.messageStore.readMessages(chatId, {
          after: 2,
          limit: 1,
          order: "asc",
        });
        // The retry's own content is stored only when nothing was stored before the crash.
        expect(stored?.content).toBe(step === "after-lookup" ? "the retry" : "the crashed send");
        await expectPublished(chatId, 4);
      });
    });
  }

  for (const step of ACKED_STEPS) {
    for (const activation of ["sync", "send"] as const) {
      const by = activation === "sync" ? "a member's sync" : "another member's send";
      it(`crash ${step}: without any retry, the fresh runtime activated by ${by} republishes the acknowledged message (D4)`, async () => {
        const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
        const chatId = await fixture.chatWith([alice, bob]);
        const clientMessageId = randomUUID();
        await crashDuringSend(step, chatId, alice, clientMessageId, [alice, bob]);

        await withFreshRuntime(async (ingest, producerId) => {
          let n = 3;
          if (activation === "sync") {
            const page = await ingest.sync({ chatId, userId: bob, afterSequence: 0 });
            expect(page.messages.map((message) => message.sequence)).toEqual([1, 2, 3]);
          } else {
            expect((await ingest.persist(send(chatId, bob, "hello?"))).sequence).toBe(4);
            n = 4;
          }
          // Published by the new runtime (not only by the crashed one, which did for during-publication).
          await expectPublishedBy(producerId, chatId, 3);
          await expectPublished(chatId, n);
          expect(await expectOneCopyNoGap(ingest, chatId, bob, clientMessageId, n)).toBe(3);
          const first = eventsOf(chatId).find((event) => event.payload.sequence === 3)?.payload;
          expect(first).toMatchObject({ client_message_id: clientMessageId, sender_id: alice });
        });
      });
    }
  }

  it("crash after-lookup, another client's send takes that sequence first: the retry gets the next sequence, one copy, no gap", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const clientMessageId = randomUUID();
    await crashDuringSend("after-lookup", chatId, alice, clientMessageId, [alice]);

    await withFreshRuntime(async (ingest) => {
      const other = await ingest.persist(send(chatId, bob, "first on the new runtime"));
      expect(other).toMatchObject({ sequence: 2, deduplicated: false });
      const retry = await ingest.persist(send(chatId, alice, "the retry", clientMessageId));
      expect(retry).toMatchObject({ sequence: 3, deduplicated: false });
      expect(await ingest.persist(send(chatId, alice, "again", clientMessageId))).toMatchObject({
        sequence: 3,
        messageId: retry.messageId,
        deduplicated: true,
      });
      expect(await expectOneCopyNoGap(ingest, chatId, bob, clientMessageId, 3)).toBe(3);
      await expectPublished(chatId, 3);
    });
  });

  it("crash after the block put, before the ack: once indexed_through has passed it on a later runtime, a retry on yet another runtime is found through the index", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const clientMessageId = randomUUID();
    const crash = await crashDuringSend("after-message-write", chatId, alice, clientMessageId, [alice]);

    // The next runtime reads the block above indexed_through, indexes it and moves the watermark past it.
    await withFreshRuntime(async (first) => {
      expect((await first.persist(send(chatId, bob, "takes sequence 3"))).sequence).toBe(3);
      // Index records are written behind the ack, after a pause (or a batch's worth of messages).
      fixture.clock.advance(INGEST_DEFAULTS.indexDelayMs);
      await waitFor(
        async () => ((await fixture.messageStore.getCounters(chatId))?.indexedThrough ?? 0) >= 3,
        {
          what: "indexed_through past the crashed block",
        },
      );
    });
    // Nothing above the watermark: this runtime holds nothing in memory and must find the retry in the index.
    await withFreshRuntime(async (second) => {
      const retry = await second.persist(send(chatId, alice, "the retry", clientMessageId));
      expect(retry).toMatchObject({ sequence: 2, messageId: crash.messageId, deduplicated: true });
      expect(second.sequencerOf(chatId)?.position.held).toBe(0);
      expect(await expectOneCopyNoGap(second, chatId, bob, clientMessageId, 3)).toBe(2);
      await expectPublished(chatId, 3);
    });
  });

  it("a crash while several sends wait in the mailbox, before their block is written, leaves nothing, so a later send's retry alone succeeds", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const failpoints = new CrashRecorder();
    const doomed = fixture.runtime({ failpoints, producerId: uniqueName("doomed-") });
    expect((await doomed.persist(send(chatId, alice, "before"))).sequence).toBe(1);
    failpoints.armed.arm("after-lookup");
    const [first, second] = [randomUUID(), randomUUID()];
    // A sync keeps the mailbox busy while both sends queue behind it, so they are handled as one batch; the
    // crash hits it after its checks.
    const busy = doomed.sync({ chatId, userId: alice, afterSequence: 0 });
    const outcomes = await Promise.allSettled([
      doomed.persist(send(chatId, alice, "first", first)),
      doomed.persist(send(chatId, bob, "second", second)),
    ]);
    await busy;
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    abandon(doomed);
    expect(await fixture.messageStore.getIndexRecords([{ chatId, clientMessageId: second }])).toEqual([]);
    expect(await fixture.messageStore.readTail(chatId)).toBe(1);

    // Only the second client retries (the first never comes back): it must not wait for sequence 2.
    await withFreshRuntime(async (fresh) => {
      expect((await fresh.persist(send(chatId, bob, "second, retried", second))).sequence).toBe(2);
      expect(await expectOneCopyNoGap(fresh, chatId, bob, second, 2)).toBe(2);
    });
  });
});
