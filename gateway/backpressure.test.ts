import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import type { StoredMessage } from "../runtime/ports/message-store.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";
import type { TestClient } from "../test/support/gateway-harness.js";
import { eachLimited, syncAll } from "../test/support/sync-all.js";

/** Enough 4 KB messages to fill the kernel's socket buffers (several MB on loopback) and then ours. */
const MESSAGES = 1_600;
const CONTENT = "s".repeat(3_900);

const pause = (client: TestClient) => (client.socket as unknown as { _socket: Socket })._socket.pause();
const resume = (client: TestClient) => (client.socket as unknown as { _socket: Socket })._socket.resume();
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(!gatewayEnginesAvailable())("slow consumers (D9 backpressure)", () => {
  // The in-process event log: this suite is about sockets, and writing its 1,600 messages must stay quick.
  const gw = gatewayFixture({ gateway: { limits: { outboundMaxMessages: 200 } } });
  let ingest: IngestService;
  let alice: UserId;
  let bob: UserId;
  let chat: ChatId;
  let stored: StoredMessage[];

  beforeAll(async () => {
    ingest = gw.ingest.runtime();
    alice = gw.ids.user();
    bob = gw.ids.user();
    chat = await gw.ingest.chatWith([alice, bob]);
    // A busy machine can make dynalite time out: retry as a client does, with the same client_message_id.
    const run = randomUUID().slice(0, 8);
    await eachLimited(
      Array.from({ length: MESSAGES }, (_, i) => i),
      16,
      async (i) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await ingest.persist({
              chatId: chat,
              senderId: alice,
              clientMessageId: `${run}-${i}`,
              content: `${i} ${CONTENT}`,
              contentType: "text/plain",
            });
          } catch (error) {
            if (attempt >= 5 || (error as { code?: string }).code !== "SERVICE_UNAVAILABLE") throw error;
          }
        }
      },
    );
    stored = [];
    for (let after = 0; ; ) {
      const page = await ingest.sync({ chatId: chat, userId: bob, afterSequence: after, limit: 500 });
      stored.push(...page.messages);
      if (!page.hasMore) break;
      after = page.nextSequence - 1;
    }
    expect(stored).toHaveLength(MESSAGES);
  }, 300_000);

  const open = (userId: UserId) => gw.open(userId);

  async function reconnectAndSyncEverything() {
    const again = await open(bob);
    const sequences = await syncAll(again, chat);
    expect(sequences).toEqual(stored.map((message) => message.sequence));
    again.close();
  }

  it("a client that stops reading gets SLOW_CONSUMER at 95%, then after the 5 s grace connection_closing{slow_consumer} and 1008; it reconnects and sync returns everything", async () => {
    const client = await open(bob);
    const connection = gw.running.gateway.connectionsOf(bob)[0];
    if (connection === undefined) throw new Error("no connection");
    pause(client);
    let pushed = 0;
    // One push at a time, letting the socket settle, until our buffer (not the kernel's) is 95% full.
    while (connection.outbound.fill < 0.95) {
      const message = stored[pushed++];
      if (message === undefined) throw new Error("ran out of messages before the buffer filled");
      const result = await gw.running.gateway.api.deliver([{ userId: bob, message }]);
      expect(result.dropped).toBe(0);
      for (let i = 0; i < 3; i++) await tick();
    }
    expect(connection.state).toBe("established");
    gw.clock.advance(4_999);
    expect(connection.state).toBe("established");
    gw.clock.advance(1);
    expect(connection.state).toBe("closing");
    // What was buffered is not written any more; the client learns why once it reads again.
    expect(
      (await gw.running.gateway.api.deliver([{ userId: bob, message: stored[pushed] as StoredMessage }]))
        .dropped,
    ).toBe(1);
    resume(client);
    const closed = await client.closed;
    expect(closed).toEqual({ code: 1008, reason: "slow_consumer" });
    const types = client.frames.map((frame) => frame.type).filter((type) => type !== "message");
    expect(types).toEqual(["connection_established", "error", "connection_closing"]);
    const warning = client.ofType("error")[0];
    expect(warning?.payload).toMatchObject({
      code: "SLOW_CONSUMER",
      details: { buffer_limit: 200, buffer_size: expect.any(Number) },
    });
    expect(Number(warning?.payload.details?.buffer_size)).toBeGreaterThanOrEqual(190);
    expect(client.ofType("connection_closing")[0]?.payload.reason).toBe("slow_consumer");
    await reconnectAndSyncEverything();
  }, 60_000);

  it("hitting the hard limit closes at once; refused pushes are counted as dropped, never silently lost", async () => {
    const client = await open(bob);
    pause(client);
    let dropped = 0;
    for (let from = 0; from < stored.length && dropped === 0; from += 100) {
      const batch = stored.slice(from, from + 100).map((message) => ({ userId: bob, message }));
      dropped += (await gw.running.gateway.api.deliver(batch)).dropped;
      for (let i = 0; i < 3; i++) await tick();
    }
    expect(dropped).toBeGreaterThan(0);
    resume(client);
    expect(await client.closed).toEqual({ code: 1008, reason: "slow_consumer" });
    const types = client.frames.map((frame) => frame.type).filter((type) => type !== "message");
    expect(types).toEqual(["connection_established", "error", "connection_closing"]);
    await reconnectAndSyncEverything();
  }, 60_000);

  it("a reader that catches up within the grace keeps its connection", async () => {
    const client = await open(bob);
    const connection = gw.running.gateway.connectionsOf(bob)[0];
    if (connection === undefined) throw new Error("no connection");
    pause(client);
    let pushed = 0;
    while (connection.outbound.fill < 0.95) {
      const message = stored[pushed++];
      if (message === undefined) throw new Error("ran out of messages");
      await gw.running.gateway.api.deliver([{ userId: bob, message }]);
      for (let i = 0; i < 3; i++) await tick();
    }
    gw.clock.advance(2_000);
    resume(client);
    await client.next(
      (frame) => frame.type === "message" && frame.payload.sequence === stored[pushed - 1]?.sequence,
      20_000,
    );
    expect(connection.outbound.fill).toBeLessThan(0.8);
    gw.clock.advance(10_000);
    expect(connection.state).toBe("established");
    expect(client.ofType("connection_closing")).toHaveLength(0);
    client.close();
  }, 60_000);
});
