import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { MemoryNodeRegistry } from "../../runtime/adapters/memory/node-registry.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { PersistRequest } from "../../runtime/ingest-api.js";
import { createLogger } from "../../runtime/logger.js";
import { ActivationRecovery } from "../../runtime/placement/activation-recovery.js";
import { RingView } from "../../runtime/placement/ring-view.js";
import { engineEndpoint } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { Gate, interceptedStore } from "../support/intercepted-store.js";
import { SwitchableEventLog } from "../support/switchable-event-log.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Invariant 5 (D4) in the interleavings that an ordered outbox, activation markers and supervision must
 * survive: every stored message reaches `messages.persisted`, in sequence order, carrying what is stored.
 * Two owners of one chat share the real dynalite and the real Kafka; each owner has its own view of the
 * producer (one can fail while the other works) and, where the interleaving needs it, a pause or a failure
 * in front of one storage call. Only the clock is fake.
 */
const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");
const IDLE_MS = 60_000;
const PUBLISH_RETRY_MS = 1_000;
const EVENTS_MS = 20_000;

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(!dynamodb || !kafka)("publication guarantee (D4) across owners, crashes and markers", () => {
  const logger = createLogger({ level: "silent" });
  let fixture: IngestFixture;

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
  }, 60_000);
  afterAll(() => fixture?.cleanup(), 60_000);

  const send = (chatId: ChatId, senderId: UserId, content: string): PersistRequest => ({
    chatId,
    senderId,
    clientMessageId: randomUUID(),
    content,
    contentType: "text/plain",
  });

  /** A process that is killed: none of its sequencers runs again, nothing is drained. */
  const kill = (runtime: IngestService) => {
    for (const chatId of runtime.host.activeKeys()) runtime.sequencerOf(chatId)?.dispose();
  };

  /** The order in which sequences first appeared on the log for a chat. */
  const firstAppearances = (chatId: ChatId): number[] => [
    ...new Set(fixture.events.of(chatId).map((event) => event.sequence)),
  ];

  /** Every sequence of 1..n published, first seen in ascending order, each event carrying what is stored. */
  async function expectPublishedInOrder(chatId: ChatId, n: number): Promise<void> {
    await waitFor(() => fixture.events.sequencesOf(chatId).length >= n, {
      timeoutMs: EVENTS_MS,
      what: `sequences 1..${n} of ${chatId} on the log (seen so far: ${firstAppearances(chatId)})`,
    }).catch((error: unknown) => {
      throw new Error(`published: ${JSON.stringify(firstAppearances(chatId))}`, { cause: error });
    });
    expect(firstAppearances(chatId)).toEqual(range(1, n));
    const stored = await fixture.messageStore.readMessages(chatId, { limit: 1_000, order: "asc" });
    for (const event of fixture.events.of(chatId)) {
      const message = stored[event.sequence - 1];
      expect(
        { message_id: event.message_id, content: event.content, created_at: event.created_at },
        `event of sequence ${event.sequence}`,
      ).toEqual({
        message_id: message?.messageId,
        content: message?.content,
        created_at: message === undefined ? undefined : new Date(message.createdAt).toISOString(),
      });
    }
  }

  function recoveryOf(ingest: IngestService, nodeId: string, incarnation: string): ActivationRecovery {
    return new ActivationRecovery({
      store: fixture.activations,
      view: new RingView({
        store: new MemoryRingStore(fixture.clock),
        nodes: new MemoryNodeRegistry({ clock: fixture.clock }),
        clock: fixture.clock,
        logger,
        refreshMs: 1_000,
      }),
      holder: { nodeId, incarnation },
      owns: () => true,
      isActive: (chatId) => ingest.host.activeKeys().includes(chatId),
      wake: (chatId) => ingest.wake(chatId),
      clock: fixture.clock,
      logger,
      intervalMs: 30_000,
      leaseMs: IDLE_MS,
    });
  }

  it("the outbox publishes only a contiguous run: messages another owner wrote in between are read and published first", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const logA = new SwitchableEventLog(fixture.eventLog);
    const logB = new SwitchableEventLog(fixture.eventLog);
    const a = fixture.runtime({ producerId: "owner-a", eventLog: logA });
    const b = fixture.runtime({ producerId: "owner-b", eventLog: logB });

    expect((await a.persist(send(chatId, alice, "one"))).sequence).toBe(1);
    await waitFor(() => fixture.events.sequencesOf(chatId).length === 1, { what: "sequence 1 published" });
    // A's producer fails: 2 is acknowledged (D1) and stays in A's outbox.
    logA.down = true;
    expect((await a.persist(send(chatId, alice, "two"))).sequence).toBe(2);
    // A second owner writes 3 and 4 and dies before publishing them.
    logB.down = true;
    expect((await b.persist(send(chatId, bob, "three"))).sequence).toBe(3);
    expect((await b.persist(send(chatId, bob, "four"))).sequence).toBe(4);
    kill(b);
    // A's next send is fenced at 3, reloads the tail and lands at 5.
    expect((await a.persist(send(chatId, alice, "five"))).sequence).toBe(5);
    logA.down = false;
    fixture.clock.advance(PUBLISH_RETRY_MS);
    await expectPublishedInOrder(chatId, 5);
    await a.shutdown();
  }, 60_000);

  it("a new owner does not take the old owner's marker, and draining re-reads the tail it publishes through", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const logA = new SwitchableEventLog(fixture.eventLog);
    const holderA = { store: fixture.activations, nodeId: "node-a", incarnation: "a-1" };
    const holderB = { store: fixture.activations, nodeId: "node-b", incarnation: "b-1" };
    const a = fixture.runtime({ producerId: "node-a", eventLog: logA, activations: holderA });
    const b = fixture.runtime({ producerId: "node-b", activations: holderB, idleTimeoutMs: IDLE_MS });

    await a.persist(send(chatId, alice, "one"));
    await a.persist(send(chatId, alice, "two"));
    await waitFor(() => fixture.events.sequencesOf(chatId).length === 2, { what: "1 and 2 published" });
    // B becomes an owner too (a ring change that A has not applied yet) and knows the tail 2.
    expect((await b.wake(chatId)).tail).toBe(2);
    const holders = (await fixture.activations.scan({ limit: 1_000 })).items.filter(
      (marker) => marker.chatId === chatId,
    );
    expect(holders.map((marker) => marker.nodeId).sort()).toEqual(["node-a", "node-b"]);
    // A acknowledges 3 and is killed before publishing it.
    logA.down = true;
    expect((await a.persist(send(chatId, alice, "three"))).sequence).toBe(3);
    kill(a);
    // B goes idle and drains: it must publish through the tail as stored now, not the one it knew.
    fixture.clock.advance(IDLE_MS + 1);
    await waitFor(() => !b.host.activeKeys().includes(chatId), { what: "B to passivate" });
    await expectPublishedInOrder(chatId, 3);
    // A's marker outlives B's release: a sweep still finds the chat of a holder that never drained.
    const left = (await fixture.activations.scan({ limit: 1_000 })).items.filter((m) => m.chatId === chatId);
    expect(left.map((marker) => marker.nodeId)).toEqual(["node-a"]);
    await b.shutdown();
  }, 60_000);

  it("a sequencer that crashed on a live node is recovered: what it acknowledged is published", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const log = new SwitchableEventLog(fixture.eventLog);
    let failNextWrite = false;
    const store = interceptedStore(fixture.messageStore, {
      appendBlock: () => {
        if (!failNextWrite) return;
        failNextWrite = false;
        // Not a storage error (those are answered and reloaded): a fault the sequencer cannot handle.
        throw new Error("a fault of the write path (injected)");
      },
    });
    const node = fixture.runtime({
      producerId: "node-c",
      eventLog: log,
      messageStore: store,
      activations: { store: fixture.activations, nodeId: "node-c", incarnation: "c-1" },
      idleTimeoutMs: IDLE_MS,
    });
    const recovery = recoveryOf(node, "node-c", "c-1");
    // The log is down: 1 is acknowledged and waits in the outbox.
    log.down = true;
    expect((await node.persist(send(chatId, alice, "acknowledged"))).sequence).toBe(1);
    // A fault in the write path crashes the sequencer, and its outbox with it.
    failNextWrite = true;
    await expect(node.persist(send(chatId, alice, "refused"))).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
    });
    await waitFor(() => !node.host.activeKeys().includes(chatId), { what: "the crashed sequencer to go" });
    log.down = false;
    // Nobody sends to the chat again; the node's own supervision and sweeps must bring 1 out.
    fixture.clock.advance(PUBLISH_RETRY_MS);
    await recovery.sweep();
    await expectPublishedInOrder(chatId, 1);
    await node.shutdown();
  }, 60_000);

  it("a twin write answers and publishes the stored message, not its own copy", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const gate = new Gate();
    let paused = true;
    const slow = interceptedStore(fixture.messageStore, {
      appendBlock: async () => {
        if (paused) await gate.pass();
      },
    });
    const a = fixture.runtime({ producerId: "owner-a", messageStore: slow });
    const b = fixture.runtime({ producerId: "owner-b" });
    const original = send(chatId, alice, "original");
    // A checked the send (nothing in the index) and stops just before writing its block at sequence 1.
    const first = a.persist(original);
    await waitFor(() => gate.arrivals === 1, { what: "A to reach its message write" });
    paused = false;
    // The client's retry reaches B later, with other content: B finds nothing either and writes its copy; A's
    // put is then taken, and A matches the send in B's block by client_message_id (rule 6).
    fixture.clock.advance(5_000);
    const retried = await b.persist({ ...original, content: "retried" });
    gate.open();
    const answered = await first;
    const [stored] = await fixture.messageStore.readMessages(chatId, { limit: 10, order: "asc" });
    expect(stored).toBeDefined();
    for (const answer of [answered, retried]) {
      expect({ sequence: answer.sequence, messageId: answer.messageId, createdAt: answer.createdAt }).toEqual(
        {
          sequence: stored?.sequence,
          messageId: stored?.messageId,
          createdAt: stored?.createdAt,
        },
      );
    }
    await expectPublishedInOrder(chatId, 1);
    await a.shutdown();
    await b.shutdown();
  }, 60_000);
});
