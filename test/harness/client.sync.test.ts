import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatId, UserId } from "../../runtime/ids.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { type HarnessWorld, harnessWorld, reach } from "./harness-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

/**
 * Receiving, acks and sync through the real gateway. Pushes are made the way fanout makes them: stored
 * messages handed to the gateway's Deliver API (no fanout worker runs here, so only what a test pushes arrives).
 */
describe.skipIf(!dynamodb || !redisUrl || !kafka)("reference client: receive, ack and sync", () => {
  let world: HarnessWorld;
  let alice: UserId;
  let bob: UserId;

  beforeAll(async () => {
    world = await harnessWorld({ dynamodb: dynamodb ?? "", redis: redisUrl ?? "", kafka: kafka ?? "" });
    alice = world.fixture.ids.user();
    bob = world.fixture.ids.user();
  });

  afterAll(async () => {
    await world?.close();
  });

  const chat = (): Promise<ChatId> => world.fixture.chatWith([alice, bob]);
  /** What is stored, once the acks the sequencer writes behind (D16 rule 9) are flushed. */
  const deliveryState = async (chatId: ChatId) => {
    await world.fixture.flushAcks();
    const state = await world.fixture.messageStore.getDeliveryState(alice, chatId);
    return state?.lastAckedSequence ?? 0;
  };

  it("MR-05, MR-03: a push above the cursor triggers a sync that fills the gap", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice, { chats: [chatId] });
    await client.connect();
    const stored = await world.persist(chatId, bob, ["one", "two", "three"]);
    const gaps: number[] = [];
    client.on("gap", ({ seen }) => gaps.push(seen));
    const arrivals: number[] = [];
    client.on("message", (message) => arrivals.push(message.sequence));
    const third = stored[2];
    if (third === undefined) throw new Error("three messages were persisted");
    await world.push(world.gateway, alice, [third]);
    await waitFor(() => client.lastAckedSequence(chatId) === 3, { what: "the gap to be synced" });
    expect(gaps).toEqual([3]);
    // MR-03: the message above the gap was kept and shown at once, not held back until the gap filled.
    expect(arrivals).toEqual([3, 1, 2]);
    expect(client.messages(chatId).map((message) => message.content)).toEqual(["one", "two", "three"]);
    const syncs = sentOfType("sync_request");
    // RS-01 on connect (cursor 0, empty), then the gap's sync from the cursor (still 0).
    expect(syncs.map((frame) => frame.payload.last_acked_sequence)).toEqual([0, 0]);
    await client.close();
  });

  it("MR-01, MR-02, MR-04: pushes out of order and twice are stored once each, ordered by sequence", async () => {
    const chatId = await chat();
    const { client } = world.client(alice, { chats: [chatId] });
    await client.connect();
    const stored = await world.persist(chatId, bob, ["a", "b", "c", "d"]);
    const [m1, m2, m3, m4] = stored;
    if (m1 === undefined || m2 === undefined || m3 === undefined || m4 === undefined)
      throw new Error("4 persisted");
    const arrivals: number[] = [];
    client.on("message", (message) => arrivals.push(message.sequence));
    await world.push(world.gateway, alice, [m1]);
    await world.push(world.gateway, alice, [m2, m1]);
    await waitFor(() => client.lastAckedSequence(chatId) === 2, { what: "1 and 2" });
    // The gateway itself drops a repeat on one connection; the client's own dedupe shows on a new socket.
    await world.push(world.gateway, alice, [m4]);
    await world.push(world.gateway, alice, [m3]);
    await waitFor(() => client.lastAckedSequence(chatId) === 4, { what: "3 and 4" });
    expect(client.messages(chatId).map((message) => message.sequence)).toEqual([1, 2, 3, 4]);
    expect(new Set(arrivals).size).toBe(arrivals.length);
    // m3 arrived by the gap's sync before or after its push: never stored twice.
    expect(arrivals.slice().sort()).toEqual([1, 2, 3, 4]);
    await client.close();
  });

  it("MR-02: a message pushed again on a new connection is dropped as a duplicate", async () => {
    const chatId = await chat();
    const { client } = world.client(alice, { chats: [chatId] });
    await client.connect();
    const [m1] = await world.persist(chatId, bob, ["once"]);
    if (m1 === undefined) throw new Error("persisted");
    await world.push(world.gateway, alice, [m1]);
    await waitFor(() => client.lastAckedSequence(chatId) === 1, { what: "the push" });
    // A new connection (the gateway's per-connection dedupe starts empty) gets the same push again.
    await world.gateway.gateway.api.closeConnections({ userId: alice, reason: "server_shutdown" });
    await reach(client, "Disconnected");
    world.fixture.clock.advance(6_250);
    await reach(client, "Ready");
    const duplicates: number[] = [];
    client.on("duplicate", ({ sequence }) => duplicates.push(sequence));
    await world.push(world.gateway, alice, [m1]);
    await waitFor(() => duplicates.length === 1, { what: "the duplicate push" });
    expect(duplicates).toEqual([1]);
    expect(client.messages(chatId)).toHaveLength(1);
    await client.close();
  });

  it("RS-01, RS-02, CL-05: after a server-side close the client reconnects and syncs what it missed from its cursor", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice, { chats: [chatId] });
    await client.connect();
    await world.persist(chatId, bob, ["before"]);
    await world.push(
      world.gateway,
      alice,
      await world.fixture.messageStore.readMessages(chatId, { limit: 10, order: "asc" }),
    );
    await waitFor(() => client.lastAckedSequence(chatId) === 1, { what: "the first message" });
    await world.gateway.gateway.api.closeConnections({ userId: alice, reason: "server_shutdown" });
    await reach(client, "Disconnected");
    await world.persist(chatId, bob, ["missed 1", "missed 2", "missed 3"]);
    world.fixture.clock.advance(6_250);
    await reach(client, "Ready");
    expect(client.messages(chatId).map((message) => message.content)).toEqual([
      "before",
      "missed 1",
      "missed 2",
      "missed 3",
    ]);
    const cursors = sentOfType("sync_request").map((frame) => frame.payload.last_acked_sequence);
    expect(cursors).toEqual([0, 1]);
    await waitFor(async () => (await deliveryState(chatId)) === 4, { what: "the ack after the sync" });
    await client.close();
  });

  it("RS-05, protocol §10: many chats sync at most 5 at a time and 5 a second, with paging", async () => {
    const chats: ChatId[] = [];
    for (let index = 0; index < 7; index++) {
      const chatId = await chat();
      await world.persist(chatId, bob, ["p1", "p2", "p3"]);
      chats.push(chatId);
    }
    const { client, sentOfType } = world.client(alice, { chats, timings: { syncPageSize: 2 } });
    let inFlight = 0;
    let maxInFlight = 0;
    client.on("sent", (frame) => {
      if (frame.type !== "sync_request") return;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    });
    client.on("received", (frame) => {
      if (frame.type === "sync_response") inFlight--;
    });
    const ready = client.connect();
    await waitFor(() => sentOfType("sync_request").length === 5 && inFlight === 0, {
      what: "the first 5 syncs",
    });
    // The sixth waits for the next second of the (manual) clock.
    expect(client.state).toBe("Syncing");
    for (let second = 0; second < 4 && client.state !== "Ready"; second++) {
      world.fixture.clock.advance(1_000);
      await waitFor(
        () =>
          inFlight === 0 &&
          (client.state === "Ready" || sentOfType("sync_request").length >= 5 * (second + 2)),
        {
          what: "the next second's syncs",
        },
      );
    }
    await ready;
    expect(maxInFlight).toBeLessThanOrEqual(5);
    // Two pages per chat (2 + 1 messages): 14 requests.
    expect(sentOfType("sync_request")).toHaveLength(14);
    for (const chatId of chats)
      expect(client.messages(chatId).map((message) => message.content)).toEqual(["p1", "p2", "p3"]);
    await client.close();
  });

  it("AK-01, AK-02, AK-03, AK-06: acks are cumulative, batched (10 messages or 5 s) and cover only stored messages", async () => {
    const chatId = await chat();
    const { client, sentOfType, stateFile } = world.client(alice, { chats: [chatId] });
    await client.connect();
    // AK-03: whenever an ack leaves, the state file already holds every message it covers.
    const uncovered: string[] = [];
    client.on("sent", (frame) => {
      if (frame.type !== "ack") return;
      const onDisk = JSON.parse(readFileSync(stateFile, "utf8")) as {
        chats: Record<string, { messages: Array<{ sequence: number }> }>;
      };
      const held = new Set(onDisk.chats[chatId]?.messages.map((message) => message.sequence));
      for (let sequence = 1; sequence <= frame.payload.last_acked_sequence; sequence++) {
        if (!held.has(sequence)) uncovered.push(`${frame.payload.last_acked_sequence}:${sequence}`);
      }
    });
    const stored = await world.persist(
      chatId,
      bob,
      Array.from({ length: 25 }, (_, index) => `m${index + 1}`),
    );
    for (const message of stored) {
      await world.push(world.gateway, alice, [message]);
      await waitFor(() => client.lastAckedSequence(chatId) === message.sequence, {
        what: `push ${message.sequence}`,
      });
    }
    expect(sentOfType("ack").map((frame) => frame.payload.last_acked_sequence)).toEqual([10, 20]);
    world.fixture.clock.advance(4_999);
    expect(sentOfType("ack")).toHaveLength(2);
    world.fixture.clock.advance(1);
    expect(sentOfType("ack").map((frame) => frame.payload.last_acked_sequence)).toEqual([10, 20, 25]);
    await waitFor(async () => (await deliveryState(chatId)) === 25, { what: "delivery state 25" });
    expect(uncovered).toEqual([]);
    await client.close();
  });

  it("AK-04: pending acks are flushed before a graceful close", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice, { chats: [chatId] });
    await client.connect();
    const stored = await world.persist(chatId, bob, ["x", "y", "z"]);
    await world.push(world.gateway, alice, stored);
    await waitFor(() => client.lastAckedSequence(chatId) === 3, { what: "three pushes" });
    expect(sentOfType("ack")).toHaveLength(0);
    await client.close();
    expect(sentOfType("ack").map((frame) => frame.payload.last_acked_sequence)).toEqual([3]);
    await waitFor(async () => (await deliveryState(chatId)) === 3, { what: "delivery state 3" });
  });

  it("AK-05, RS-02: last_acked_sequence is kept per chat in the state file and is the cursor after a restart", async () => {
    const chatId = await chat();
    const first = world.client(alice, { chats: [chatId] });
    await first.client.connect();
    await world.push(world.gateway, alice, await world.persist(chatId, bob, ["a", "b"]));
    await waitFor(() => first.client.lastAckedSequence(chatId) === 2, { what: "two pushes" });
    first.client.abandon();
    await world.persist(chatId, bob, ["c"]);
    const second = world.client(alice, { stateFile: first.stateFile, deviceId: first.client.deviceId });
    expect(second.client.lastAckedSequence(chatId)).toBe(2);
    await second.client.connect();
    expect(second.sentOfType("sync_request").map((frame) => frame.payload.last_acked_sequence)).toEqual([2]);
    expect(second.client.messages(chatId).map((message) => message.content)).toEqual(["a", "b", "c"]);
    await second.client.close();
  });

  it("MS-04, MS-02: a client restarted from its state file resends its pending send once, with the same id", async () => {
    const chatId = await chat();
    const first = world.client(alice, { chats: [chatId] });
    await first.client.connect();
    world.late.hold(1);
    void first.client.send(chatId, "survives a crash").catch(() => {});
    await waitFor(() => world.late.heldCount === 1, { what: "the persist to be held" });
    const [pending] = first.client.pendingSends();
    first.client.abandon();
    world.late.release();

    const second = world.client(alice, { stateFile: first.stateFile, deviceId: first.client.deviceId });
    expect(second.client.pendingSends()).toEqual([pending]);
    const acked = second.client.whenAcked(pending?.client_message_id ?? "");
    await second.client.connect();
    const ack = await acked;
    expect(second.sentOfType("send_message").map((frame) => frame.payload.client_message_id)).toEqual([
      pending?.client_message_id,
    ]);
    const all = await world.fixture.messageStore.readMessages(chatId, { limit: 10, order: "asc" });
    expect(all.map((message) => [message.sequence, message.clientMessageId])).toEqual([
      [ack.sequence, ack.clientMessageId],
    ]);
    expect(second.client.pendingSends()).toEqual([]);
    expect(second.client.messages(chatId).map((message) => message.content)).toEqual(["survives a crash"]);
    await second.client.close();
  });

  it("MS-07: sends made while offline wait in the outbox and go out, in order, once Ready", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice, { chats: [chatId] });
    const first = client.send(chatId, "queued 1");
    const second = client.send(chatId, "queued 2");
    expect(sentOfType("send_message")).toHaveLength(0);
    expect(client.pendingSends().map((entry) => entry.content)).toEqual(["queued 1", "queued 2"]);
    await client.connect();
    expect((await first).sequence).toBe(1);
    expect((await second).sequence).toBe(2);
    await client.close();
  });

  it("RS-03: after SLOW_CONSUMER the client reconnects and syncs everything", async () => {
    const small = await world.startGateway({ outboundMaxMessages: 10 });
    const chatId = await chat();
    const { client } = world.client(alice, { chats: [chatId], url: small.url });
    await client.connect();
    const errors: string[] = [];
    client.on("server_error", ({ code }) => errors.push(code));
    const stored = await world.persist(
      chatId,
      bob,
      Array.from({ length: 10 }, (_, index) => `flood ${index}`),
    );
    await world.push(small, alice, stored);
    await waitFor(() => errors.includes("SLOW_CONSUMER"), { what: "SLOW_CONSUMER" });
    await reach(client, "Disconnected");
    world.fixture.clock.advance(1_250);
    await reach(client, "Ready");
    expect(client.messages(chatId)).toHaveLength(10);
    expect(client.lastAckedSequence(chatId)).toBe(10);
    await client.close();
  });
});
