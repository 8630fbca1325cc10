import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArmedFailpoints } from "../../actors/chat-sequencer/failpoints.js";
import type { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { MemoryNodeRegistry } from "../../runtime/adapters/memory/node-registry.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import type { ChatId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { ActivationRecovery } from "../../runtime/placement/activation-recovery.js";
import { RingView } from "../../runtime/placement/ring-view.js";
import type { ActivationMarker } from "../../runtime/ports/activation-store.js";
import { engineEndpoint } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Invariant 5 for quiet chats: an owner that acknowledged a message and died before publishing it leaves its
 * activation marker behind; the chat's next owner finds the marker in a sweep and activates the chat, which
 * publishes the message, although nobody sends to that chat again.
 */
const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");
const IDLE_MS = 60_000;
const LEASE_MS = 120_000;

describe.skipIf(!dynamodb || !kafka)("recovery of chats a crashed owner left unpublished", () => {
  const logger = createLogger({ level: "silent" });
  let fixture: IngestFixture;

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
  }, 60_000);
  afterAll(() => fixture?.cleanup(), 60_000);

  const markers = async (): Promise<ActivationMarker[]> =>
    (await fixture.activations.scan({ limit: 1000 })).items;

  function survivor(
    nodeId: string,
    incarnation: string,
  ): { ingest: IngestService; recovery: ActivationRecovery } {
    const ingest = fixture.runtime({
      producerId: nodeId,
      activations: { store: fixture.activations, nodeId, incarnation },
      idleTimeoutMs: IDLE_MS,
    });
    const view = new RingView({
      store: new MemoryRingStore(fixture.clock),
      nodes: new MemoryNodeRegistry({ clock: fixture.clock }),
      clock: fixture.clock,
      logger,
      refreshMs: 1_000,
    });
    const recovery = new ActivationRecovery({
      store: fixture.activations,
      view,
      holder: { nodeId, incarnation },
      owns: () => true,
      isActive: (chatId) => ingest.host.instanceOf(chatId) !== undefined,
      wake: (chatId) => ingest.wake(chatId),
      clock: fixture.clock,
      logger,
      intervalMs: 30_000,
      leaseMs: LEASE_MS,
    });
    return { ingest, recovery };
  }

  it("a message acknowledged just before the owner died is published by the next owner's sweep", async () => {
    const sender = fixture.ids.user();
    const quiet = await fixture.chatWith([sender, fixture.ids.user()]);
    const failpoints = new ArmedFailpoints();
    const crashed = fixture.runtime({
      producerId: "node-a",
      failpoints,
      activations: { store: fixture.activations, nodeId: "node-a", incarnation: "a-1" },
    });
    failpoints.arm("after-ack-before-publication");
    const ack = await crashed.persist({
      chatId: quiet,
      senderId: sender,
      clientMessageId: randomUUID(),
      content: "acknowledged, never published",
      contentType: "text/plain",
    });
    expect(ack.sequence).toBe(1);
    // The process is gone: none of its sequencers runs again.
    for (const chatId of crashed.host.activeKeys()) crashed.sequencerOf(chatId)?.dispose();
    expect(await markers()).toContainEqual(expect.objectContaining({ chatId: quiet, nodeId: "node-a" }));
    expect(fixture.events.sequencesOf(quiet)).toEqual([]);

    const { ingest, recovery } = survivor("node-b", "b-1");
    const result = await recovery.sweep();
    expect(result.recovered).toBeGreaterThanOrEqual(1);
    expect(result.failed).toBe(0);
    await waitFor(() => fixture.events.sequencesOf(quiet).length === 1, {
      timeoutMs: 20_000,
      what: "the event",
    });
    expect(fixture.events.of(quiet)[0]).toMatchObject({
      sequence: 1,
      content: "acknowledged, never published",
    });
    // The survivor holds the chat now; once idle and drained, it lets its own marker go.
    expect(await markers()).toContainEqual(
      expect.objectContaining({ chatId: quiet, nodeId: "node-b", incarnation: "b-1" }),
    );
    fixture.clock.advance(IDLE_MS + 1);
    await waitFor(async () => !(await markers()).some((m) => m.chatId === quiet && m.nodeId === "node-b"), {
      what: "the survivor's marker to go",
    });
    // The marker goes during the passivation; the actor leaves the host right after it.
    await waitFor(() => !ingest.host.activeKeys().includes(quiet), { what: "the sequencer to passivate" });
    // node-a may only be cut off and still writing: its marker stays until it has not been refreshed for a
    // lease, and the first sweep after that recovers the chat once more and removes it.
    expect((await markers()).filter((m) => m.chatId === quiet).map((m) => m.nodeId)).toEqual(["node-a"]);
    fixture.clock.advance(LEASE_MS);
    expect((await recovery.sweep()).evicted).toBe(1);
    expect((await markers()).filter((m) => m.chatId === quiet).map((m) => m.nodeId)).toEqual(["node-b"]);
    await ingest.shutdown();
  }, 60_000);

  it("a restarted node recovers what its previous incarnation left, and leaves its own live chats alone", async () => {
    const sender = fixture.ids.user();
    const chats: ChatId[] = [];
    for (let i = 0; i < 3; i++) chats.push(await fixture.chatWith([sender]));
    const failpoints = new ArmedFailpoints();
    const previous = fixture.runtime({
      producerId: "node-c",
      failpoints,
      activations: { store: fixture.activations, nodeId: "node-c", incarnation: "c-1" },
    });
    for (const chatId of chats) {
      failpoints.arm("after-ack-before-publication");
      await previous.persist({
        chatId,
        senderId: sender,
        clientMessageId: randomUUID(),
        content: "x",
        contentType: "text/plain",
      });
    }
    for (const chatId of previous.host.activeKeys()) previous.sequencerOf(chatId)?.dispose();

    const { ingest, recovery } = survivor("node-c", "c-2");
    // A chat the new incarnation is already serving holds its own marker: the sweep must not count it.
    const busy = await fixture.chatWith([sender]);
    await ingest.persist({
      chatId: busy,
      senderId: sender,
      clientMessageId: randomUUID(),
      content: "y",
      contentType: "text/plain",
    });
    const result = await recovery.sweep();
    expect(result.recovered).toBe(3);
    for (const chatId of chats) {
      await waitFor(() => fixture.events.sequencesOf(chatId).length === 1, {
        timeoutMs: 20_000,
        what: "events",
      });
    }
    const again = await recovery.sweep();
    expect(again.recovered).toBe(0);
    await ingest.shutdown();
    // A graceful shutdown drains every outbox and so leaves no marker behind.
    expect((await markers()).filter((m) => m.nodeId === "node-c")).toEqual([]);
  }, 60_000);
});
