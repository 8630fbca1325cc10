import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import type { GatewayLimits } from "../../gateway/limits.js";
import { membershipChangedRecord } from "../../runtime/events.js";
import type { UserId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import { createLogger } from "../../runtime/logger.js";
import type { ActivationStore } from "../../runtime/ports/activation-store.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { TOPICS } from "../../runtime/topics.js";
import { uniqueName } from "../support/engines.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../support/gateway-fixture.js";
import { connect, connected, newDevice, type TestClient } from "../support/gateway-harness.js";
import { eachLimited } from "../support/sync-all.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Abuse of the connection plane and of the durability plane behind it, against real engines (dynalite,
 * redis-server) and real servers on port 0; only the clock is a ManualClock.
 */
/** Every call to the wrapped object, by method name: how a test sees storage requests. */
function counted<T extends object>(inner: T): { readonly store: T; readonly calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

const MESSAGE_STORE_WRITES = [
  "appendBlock",
  "putIndexRecords",
  "advanceCounters",
  "compareAndSetIndexedThrough",
  "advanceDeliveryState",
];
const writesOf = (calls: Map<string, number>, names: readonly string[]) =>
  names.reduce((sum, name) => sum + (calls.get(name) ?? 0), 0);
const total = (calls: Map<string, number>) => [...calls.values()].reduce((sum, n) => sum + n, 0);

type GatewayLimitsPatch = Partial<GatewayLimits>;

const pauseReading = (client: TestClient) =>
  (client.socket as unknown as { _socket: Socket })._socket.pause();
const resumeReading = (client: TestClient) =>
  (client.socket as unknown as { _socket: Socket })._socket.resume();

describe.skipIf(!gatewayEnginesAvailable())("abuse limits of the connection and durability planes", () => {
  // Each test starts a gateway with the limits it is about.
  const gw = gatewayFixture({ gateway: false });
  const gatewayWith = (ingest: IngestApi, limits: GatewayLimitsPatch) => gw.startGateway({ ingest, limits });
  const tokenOf = (userId: UserId) => gw.token(userId);

  it("acks are rate-limited per connection: past the burst they are dropped, and a flood closes the connection with rate_limited", async () => {
    const ingest = gw.ingest.runtime();
    let forwarded = 0;
    const counting: IngestApi = {
      persist: (request) => ingest.persist(request),
      sync: (request) => ingest.sync(request),
      ack: (request) => {
        forwarded++;
        return ingest.ack(request);
      },
    };
    // The ManualClock stands still: no token comes back during the test, so exactly the burst passes.
    const running = await gatewayWith(counting, {
      ackPerConnectionPerSecond: 10,
      ackPerConnectionBurst: 20,
      rateLimitedCloseThreshold: 50,
    });
    const alice = gw.ids.user();
    const chat = await gw.ingest.chatWith([alice]);
    const { client } = await connected(running.url, { token: await tokenOf(alice), deviceId: newDevice() });
    for (let i = 1; i <= 200; i++) {
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: i } });
    }
    const closing = await client.next((frame) => frame.type === "connection_closing");
    expect(closing.payload.reason).toBe("rate_limited");
    expect((await client.closed).code).toBe(1013);
    expect(forwarded).toBe(20);
    // One-way frames stay unanswered even when refused (protocol §9).
    expect(client.ofType("error")).toEqual([]);
  });

  it("requests for chats the user is not in never activate a sequencer: a flood of made-up and foreign chat ids creates no actors and writes nothing", async () => {
    const messages = counted<MessageStore>(gw.ingest.messageStore);
    const activations = counted<ActivationStore>(gw.ingest.activations);
    const service = new IngestService({
      messageStore: messages.store,
      chatStore: gw.ingest.chatStore,
      eventLog: gw.ingest.eventLog,
      clock: gw.clock,
      ids: gw.ids,
      logger: createLogger({ level: "silent" }),
      producerId: uniqueName("ingest-"),
      activations: { store: activations.store, nodeId: uniqueName("node-"), incarnation: "1" },
      membershipGate: { maxEntries: 64 },
    });
    try {
      const mallory = gw.ids.user();
      const owner = gw.ids.user();
      const foreign = await gw.ingest.chatWith([owner]);
      const made = Array.from({ length: 300 }, () => gw.ids.chat());
      const refusals = new Map<string, number>();
      const refuse = async (call: Promise<unknown>) => {
        const code = await call.then(
          () => "accepted",
          (error: { code?: string }) => error.code ?? "unknown",
        );
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
      };
      await eachLimited(made, 16, async (chatId) => {
        await refuse(
          service.persist({
            chatId,
            senderId: mallory,
            clientMessageId: randomUUID(),
            content: "spam",
            contentType: "text/plain",
          }),
        );
        await refuse(service.sync({ chatId, userId: mallory, afterSequence: 0 }));
        await refuse(service.ack({ chatId, userId: mallory, sequence: 5 }));
      });
      for (let i = 0; i < 50; i++) {
        await refuse(
          service.persist({
            chatId: foreign,
            senderId: mallory,
            clientMessageId: randomUUID(),
            content: "spam",
            contentType: "text/plain",
          }),
        );
        await refuse(service.sync({ chatId: foreign, userId: mallory, afterSequence: 0 }));
        await refuse(service.ack({ chatId: foreign, userId: mallory, sequence: 1 }));
      }
      expect(Object.fromEntries(refusals)).toEqual({ NOT_FOUND: 900, NOT_A_MEMBER: 150 });
      expect(service.host.activeKeys()).toEqual([]);
      expect(service.membershipGate.size).toBeLessThanOrEqual(64);
      expect(writesOf(messages.calls, MESSAGE_STORE_WRITES)).toBe(0);
      expect(total(messages.calls)).toBe(0);
      expect(total(activations.calls)).toBe(0);
      // The member still gets through, and only then is the chat's sequencer activated.
      const ack = await service.persist({
        chatId: foreign,
        senderId: owner,
        clientMessageId: randomUUID(),
        content: "hello",
        contentType: "text/plain",
      });
      expect(ack.sequence).toBe(1);
      expect(service.host.activeKeys()).toEqual([foreign]);
    } finally {
      await service.shutdown();
    }
  });

  it("a refused user who is then added gets in as soon as the membership event arrives", async () => {
    const service = gw.ingest.runtime();
    await gw.ingest.eventLog.ensureTopics([
      { name: TOPICS.membershipsChanged, partitions: 2 },
      { name: TOPICS.chatsCreated, partitions: 2 },
    ]);
    service.followMembershipEvents(uniqueName("node-"));
    const owner = gw.ids.user();
    const carol = gw.ids.user();
    const chat = await gw.ingest.chatWith([owner]);
    await expect(service.sync({ chatId: chat, userId: carol, afterSequence: 0 })).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
    });
    const now = gw.clock.now();
    await gw.ingest.chatStore.addMembership({
      chatId: chat,
      userId: carol,
      role: "member",
      joinedAt: now,
      updatedAt: now,
    });
    await gw.ingest.eventLog.publish(TOPICS.membershipsChanged, [
      membershipChangedRecord(
        {
          chat_id: chat,
          user_id: carol,
          change_type: "added",
          role: "member",
          changed_by: owner,
          member_count_after: 2,
          changed_at: new Date(now).toISOString(),
        },
        { eventId: gw.ids.event(), producerId: "test", eventTime: now },
      ),
    ]);
    // The clock stands still: only the event can drop the cached refusal.
    await waitFor(
      () =>
        service.sync({ chatId: chat, userId: carol, afterSequence: 0 }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, what: "the added member's sync" },
    );
  });

  it("a client that stops reading but keeps asking for sync pages is closed as a slow consumer; its replies stay within the outbound buffer", async () => {
    const ingest = gw.ingest.runtime();
    let answered = 0;
    const counting: IngestApi = {
      persist: (request) => ingest.persist(request),
      ack: (request) => ingest.ack(request),
      sync: (request) =>
        ingest.sync(request).finally(() => {
          answered++;
        }),
    };
    const maxBytes = 256 * 1024;
    const running = await gatewayWith(counting, {
      outboundMaxBytes: maxBytes,
      syncPerConnectionPerSecond: 10_000,
    });
    const alice = gw.ids.user();
    const chat = await gw.ingest.chatWith([alice]);
    const content = "r".repeat(3_000);
    await eachLimited(
      Array.from({ length: 500 }, (_, i) => i),
      16,
      (i) =>
        ingest.persist({
          chatId: chat,
          senderId: alice,
          clientMessageId: randomUUID(),
          content: `${i} ${content}`,
          contentType: "text/plain",
        }),
    );
    const { client } = await connected(running.url, { token: await tokenOf(alice), deviceId: newDevice() });
    const [connection] = running.gateway.connectionsOf(alice);
    if (connection === undefined) throw new Error("no connection");
    pauseReading(client);
    // Each page is about 1.5 MB; the kernel's socket buffers take a few MB, then the gateway's buffer fills.
    let peakBytes = 0;
    const sample = () => {
      peakBytes = Math.max(peakBytes, connection.outbound.bytes);
    };
    let asked = 0;
    for (let wave = 0; wave < 100 && connection.isOpen; wave++) {
      for (let i = 0; i < 4; i++, asked++) {
        client.send({
          type: "sync_request",
          request_id: randomUUID(),
          payload: { chat_id: chat, last_acked_sequence: 0, limit: 500 },
        });
      }
      await waitFor(
        () => {
          sample();
          return !connection.isOpen || answered >= asked;
        },
        { timeoutMs: 20_000, what: "the wave's sync pages" },
      );
    }
    expect(connection.isOpen).toBe(false);
    // At most the buffer plus one page that was let into an empty buffer.
    expect(peakBytes).toBeLessThanOrEqual(maxBytes + 2 * 1024 * 1024);
    resumeReading(client);
    const closing = await client.next((frame) => frame.type === "connection_closing", 30_000);
    expect(closing.payload.reason).toBe("slow_consumer");
    expect((await client.closed).code).toBe(1008);
  }, 120_000);

  it("open connections are capped per user: the next one is refused with 429 rate_limited, a reconnecting device is not", async () => {
    const running = await gatewayWith(gw.ingest.runtime(), { maxConnectionsPerUser: 2 });
    const alice = gw.ids.user();
    const device = newDevice();
    const first = await connected(running.url, { token: await tokenOf(alice), deviceId: device });
    const second = await connected(running.url, { token: await tokenOf(alice), deviceId: newDevice() });
    const third = await connect(running.url, { token: await tokenOf(alice), deviceId: newDevice() });
    expect(third).toMatchObject({
      refusal: { status: 429, body: { error: "rate_limited", details: { limit: "connections_per_user" } } },
    });
    // The first device reconnects: its older connection is replaced, the count does not grow.
    const again = await connected(running.url, { token: await tokenOf(alice), deviceId: device });
    expect((await first.client.next((frame) => frame.type === "connection_closing")).payload.reason).toBe(
      "duplicate_connection",
    );
    // Another user is not affected.
    const bob = await connected(running.url, {
      token: await tokenOf(gw.ids.user()),
      deviceId: newDevice(),
    });
    // A connection that went away frees its place.
    second.client.close();
    await waitFor(() => running.gateway.connectionsOf(alice).length === 1, {
      what: "the closed connection's release",
    });
    const fourth = await connected(running.url, { token: await tokenOf(alice), deviceId: newDevice() });
    for (const { client } of [again, bob, fourth]) client.close();
  });

  it("open connections are capped per client address before any token is checked", async () => {
    const running = await gatewayWith(gw.ingest.runtime(), { maxConnectionsPerIp: 3 });
    const open = [];
    for (let i = 0; i < 3; i++)
      open.push(await connected(running.url, { token: await tokenOf(gw.ids.user()), deviceId: newDevice() }));
    const refused = await connect(running.url, {
      token: await tokenOf(gw.ids.user()),
      deviceId: newDevice(),
    });
    expect(refused).toMatchObject({
      refusal: { status: 429, body: { error: "rate_limited", details: { limit: "connections_per_ip" } } },
    });
    // Counted before the token: a client without a valid token cannot make the gateway verify more.
    const forged = await connect(running.url, { token: "not-a-token", deviceId: newDevice() });
    expect(forged).toMatchObject({ refusal: { status: 429 } });
    open[0]?.client.close();
    await waitFor(() => running.gateway.connectionCount() === 2, { what: "the closed connection's release" });
    const later = await connected(running.url, {
      token: await tokenOf(gw.ids.user()),
      deviceId: newDevice(),
    });
    for (const { client } of [...open, later]) client.close();
  });
});
