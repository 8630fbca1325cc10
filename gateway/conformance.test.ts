import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import { DynamoChatStore } from "../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../runtime/adapters/dynamodb/message-store.js";
import { IngestGrpcClient } from "../runtime/grpc/ingest-client.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { createLogger } from "../runtime/logger.js";
import { engineEndpoint, uniqueName } from "../test/support/engines.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";
import {
  connect,
  connected,
  type Frame,
  newDevice,
  type RunningGateway,
  type TestClient,
} from "../test/support/gateway-harness.js";
import { waitFor } from "../test/support/wait-for.js";

const send = (chatId: string, content: string, extra: Record<string, unknown> = {}) => ({
  type: "send_message",
  request_id: randomUUID(),
  payload: { client_message_id: randomUUID(), chat_id: chatId, content, ...extra },
});

/**
 * One test per frame type, error code, close code and `connection_closing` reason of spec/protocol.md, through a
 * real WebSocket to a gateway whose durability plane is a real IngestService on dynalite and Kafka.
 */
describe.skipIf(!gatewayEnginesAvailable({ kafka: true }))(
  "protocol conformance over a real WebSocket",
  () => {
    const gw = gatewayFixture({ kafka: true });
    let alice: UserId;
    let bob: UserId;
    let chat: ChatId;

    beforeAll(async () => {
      alice = gw.ids.user();
      bob = gw.ids.user();
      chat = await gw.ingest.chatWith([alice, bob]);
    });

    const open = (userId: UserId, deviceId = newDevice(), gateway?: RunningGateway) =>
      gw.open(userId, { deviceId, ...(gateway === undefined ? {} : { gateway }) });

    /** Proves nothing was answered to what was sent before: the next frame is the heartbeat's ack. */
    async function expectNothingBefore(client: TestClient, count: number) {
      const requestId = randomUUID();
      client.send({ type: "heartbeat", request_id: requestId, payload: {} });
      await client.reply(requestId);
      expect(client.frames.slice(count).map((frame) => frame.type)).toEqual(["heartbeat_ack"]);
    }

    const errorOf = async (client: TestClient, frame: unknown, requestId?: string): Promise<Frame> => {
      const before = client.frames.length;
      client.send(frame);
      if (requestId !== undefined) return client.reply(requestId);
      return client.next((f) => f.type === "error" && client.frames.indexOf(f) >= before);
    };

    describe("frames", () => {
      it("heartbeat -> heartbeat_ack echoing request_id, or without one when none was sent", async () => {
        const client = await open(alice);
        client.send({ type: "heartbeat", request_id: "hb-1", payload: {} });
        const ack = await client.reply("hb-1");
        expect(ack).toEqual({
          type: "heartbeat_ack",
          request_id: "hb-1",
          timestamp: new Date(gw.clock.now()).toISOString(),
          payload: { server_time: new Date(gw.clock.now()).toISOString() },
        });
        client.send({ type: "heartbeat", payload: {} });
        const bare = await client.next(
          (frame) => frame.type === "heartbeat_ack" && frame.request_id === undefined,
        );
        expect(bare.payload.server_time).toBeDefined();
        client.close();
      });

      it("send_message -> send_message_ack with the stored sequence; a retry returns the same one", async () => {
        const client = await open(alice);
        const frame = send(chat, "héllo 👋");
        client.send(frame);
        const ack = await client.reply(frame.request_id);
        expect(ack.type).toBe("send_message_ack");
        expect(ack.payload).toEqual({
          client_message_id: frame.payload.client_message_id,
          message_id: expect.stringMatching(/^msg_/),
          chat_id: chat,
          sequence: expect.any(Number),
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        });
        const retry = { ...frame, request_id: randomUUID() };
        client.send(retry);
        const second = await client.reply(retry.request_id);
        expect(second.payload.sequence).toBe(ack.payload.sequence);
        expect(second.payload.message_id).toBe(ack.payload.message_id);
        client.close();
      });

      it("sync_request -> sync_response: ascending, items without chat_id, has_more and next_sequence", async () => {
        const sender = await open(alice);
        const own = await gw.ingest.chatWith([alice]);
        for (let i = 1; i <= 3; i++) {
          const frame = send(own, `m${i}`);
          sender.send(frame);
          await sender.reply(frame.request_id);
        }
        sender.send({
          type: "sync_request",
          request_id: "s-1",
          payload: { chat_id: own, last_acked_sequence: 0, limit: 2 },
        });
        const page = await sender.reply("s-1");
        expect(page.type).toBe("sync_response");
        expect(page.payload).toMatchObject({ chat_id: own, has_more: true, next_sequence: 3 });
        const messages = page.payload.messages as Array<Record<string, unknown>>;
        expect(messages.map((m) => m.sequence)).toEqual([1, 2]);
        expect(Object.keys(messages[0] ?? {}).sort()).toEqual(
          ["content", "content_type", "created_at", "message_id", "sender_id", "sequence"].sort(),
        );
        expect(messages[0]).toMatchObject({ content: "m1", content_type: "text/plain", sender_id: alice });
        sender.send({
          type: "sync_request",
          request_id: "s-2",
          payload: { chat_id: own, last_acked_sequence: 2 },
        });
        const last = await sender.reply("s-2");
        expect(last.payload).toEqual({
          chat_id: own,
          has_more: false,
          messages: [expect.objectContaining({ sequence: 3 })],
        });
        sender.close();
      });

      it("ack is stored (cumulative, never decreasing) and never answered", async () => {
        const client = await open(bob);
        const own = await gw.ingest.chatWith([bob]);
        for (let i = 1; i <= 2; i++) {
          const frame = send(own, `a${i}`);
          client.send(frame);
          await client.reply(frame.request_id);
        }
        const count = client.frames.length;
        client.send({ type: "ack", payload: { chat_id: own, last_acked_sequence: 2 } });
        client.send({
          type: "ack",
          request_id: "ignored",
          payload: { chat_id: own, last_acked_sequence: 1 },
        });
        await expectNothingBefore(client, count);
        const state = await waitFor(async () => {
          // Acks are written behind (D16 rule 9); a flush writes what the sequencer holds.
          await gw.ingest.flushAcks();
          const stored = await gw.ingest.messageStore.getDeliveryState(bob, own);
          return stored?.lastAckedSequence === 2 ? stored : undefined;
        });
        expect(state.lastAckedSequence).toBe(2);
        client.close();
      });

      it("unknown frame types and typing frames are ignored without an answer", async () => {
        const client = await open(alice);
        const count = client.frames.length;
        client.send({ type: "presence_subscribe", payload: {} });
        client.send({ type: "typing_start", payload: { chat_id: chat } });
        client.send({ type: "typing_stop", payload: { chat_id: chat } });
        await expectNothingBefore(client, count);
        client.close();
      });

      it("message pushes from deliver(): no request_id, deduped per connection, sender's connection excluded", async () => {
        const a = await open(alice);
        const b1 = await open(bob);
        const b2 = await open(bob);
        const frame = send(chat, "to bob");
        a.send(frame);
        const ack = await a.reply(frame.request_id);
        const page = await gw.ingest
          .runtime()
          .sync({ chatId: chat, userId: bob, afterSequence: Number(ack.payload.sequence) - 1 });
        const stored = page.messages[0];
        if (stored === undefined) throw new Error("the message was not stored");
        const aliceConnection = gw.running.gateway.connectionsOf(alice)[0];
        const result = await gw.running.gateway.api.deliver([
          { userId: bob, message: stored },
          { userId: bob, message: stored },
          {
            userId: alice,
            message: stored,
            excludeConnectionId: a.frames[0]?.payload.connection_id as never,
          },
          { userId: gw.ids.user(), message: stored },
        ]);
        expect(aliceConnection).toBeDefined();
        expect(result).toEqual({ delivered: 4, noConnection: 1, dropped: 0 });
        for (const client of [b1, b2]) {
          const push = await client.next((f) => f.type === "message");
          expect(push.request_id).toBeUndefined();
          expect(push.payload).toEqual({
            message_id: stored.messageId,
            chat_id: chat,
            sequence: stored.sequence,
            sender_id: alice,
            content: "to bob",
            content_type: "text/plain",
            created_at: new Date(stored.createdAt).toISOString(),
          });
          await expectNothingBefore(client, client.frames.length);
          expect(client.ofType("message")).toHaveLength(1);
        }
        expect(a.ofType("message")).toHaveLength(0);
        for (const client of [a, b1, b2]) client.close();
      });
    });

    describe("error codes", () => {
      it("INVALID_MESSAGE with details for malformed frames, echoing a usable request_id", async () => {
        let client = await open(alice);
        const cases: Array<[unknown, string, string | undefined]> = [
          ["{not json", "frame", undefined],
          ["[1,2]", "frame", undefined],
          [{ payload: {} }, "type", undefined],
          [{ type: 7, payload: {} }, "type", undefined],
          [
            {
              type: "send_message",
              payload: { chat_id: chat, client_message_id: randomUUID(), content: "x" },
            },
            "request_id",
            undefined,
          ],
          [
            {
              type: "send_message",
              request_id: "r-1",
              payload: { chat_id: "chat_nope", client_message_id: randomUUID(), content: "x" },
            },
            "chat_id",
            "r-1",
          ],
          [
            {
              type: "send_message",
              request_id: "r-2",
              payload: { chat_id: chat, client_message_id: randomUUID(), content: "" },
            },
            "content",
            "r-2",
          ],
          [{ type: "send_message", request_id: "r-3" }, "payload", "r-3"],
          [
            { type: "sync_request", request_id: "r-4", payload: { chat_id: chat, last_acked_sequence: -1 } },
            "last_acked_sequence",
            "r-4",
          ],
          [
            {
              type: "sync_request",
              request_id: "r-5",
              payload: { chat_id: chat, last_acked_sequence: 2 ** 53 },
            },
            "last_acked_sequence",
            "r-5",
          ],
          [
            { type: "ack", payload: { chat_id: chat, last_acked_sequence: 1.5 } },
            "last_acked_sequence",
            undefined,
          ],
        ];
        for (const [frame, field, requestId] of cases) {
          const before = client.frames.length;
          client.send(frame);
          const error = await client.next((f) => f.type === "error" && client.frames.indexOf(f) >= before);
          expect(error.payload.code).toBe("INVALID_MESSAGE");
          expect(error.payload.details?.field).toBe(field);
          expect(error.request_id).toBe(requestId);
          // Stay under the protocol_error threshold: it is tested on its own.
          if (client.ofType("error").length === 8) {
            client.close();
            client = await open(alice);
          }
        }
        client.close();
      });

      it("INVALID_MESSAGE for a binary frame and for a frame over 64 KiB", async () => {
        const client = await open(alice);
        client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
        const binary = await client.next((f) => f.type === "error");
        expect(binary.payload).toMatchObject({ code: "INVALID_MESSAGE", details: { field: "frame" } });
        const big = JSON.stringify(send(chat, "x".repeat(70 * 1024)));
        client.send(big);
        const tooBig = await client.next((f) => f.type === "error" && f !== binary);
        expect(tooBig.payload).toMatchObject({
          code: "INVALID_MESSAGE",
          details: { field: "frame", max_frame_bytes: 65536 },
        });
        client.close();
      });

      it("MESSAGE_TOO_LARGE counts UTF-8 bytes, not characters; exactly 4096 bytes is accepted", async () => {
        const client = await open(alice);
        const tooLarge = send(chat, "é".repeat(2049));
        const error = await errorOf(client, tooLarge, tooLarge.request_id);
        expect(error.payload).toMatchObject({
          code: "MESSAGE_TOO_LARGE",
          details: { field: "content", max_bytes: 4096, received_bytes: 4098 },
        });
        const fits = send(chat, "é".repeat(2048));
        client.send(fits);
        expect((await client.reply(fits.request_id)).type).toBe("send_message_ack");
        client.close();
      });

      it("INVALID_CONTENT_TYPE for anything but text/plain", async () => {
        const client = await open(alice);
        const frame = send(chat, "<b>hi</b>", { content_type: "text/html" });
        const error = await errorOf(client, frame, frame.request_id);
        expect(error.payload).toMatchObject({
          code: "INVALID_CONTENT_TYPE",
          details: { field: "content_type" },
        });
        client.close();
      });

      it("NOT_A_MEMBER for a send or a sync to a chat the user is not in", async () => {
        const stranger = await open(gw.ids.user());
        const frame = send(chat, "let me in");
        expect((await errorOf(stranger, frame, frame.request_id)).payload.code).toBe("NOT_A_MEMBER");
        const sync = {
          type: "sync_request",
          request_id: "sync-x",
          payload: { chat_id: chat, last_acked_sequence: 0 },
        };
        expect((await errorOf(stranger, sync, "sync-x")).payload.code).toBe("NOT_A_MEMBER");
        stranger.close();
      });

      it("RATE_LIMITED with retry_after_seconds past 20 sends per chat in a burst, and past 30 per connection", async () => {
        const client = await open(alice);
        const other = await gw.ingest.chatWith([alice]);
        const frames = Array.from({ length: 21 }, (_, i) => send(chat, `burst ${i}`));
        for (const frame of frames) client.send(frame);
        const answers = await Promise.all(frames.map((frame) => client.reply(frame.request_id)));
        expect(answers.slice(0, 20).every((a) => a.type === "send_message_ack")).toBe(true);
        expect(answers[20]?.payload).toMatchObject({
          code: "RATE_LIMITED",
          details: { retry_after_seconds: 1 },
        });
        // The per-connection bucket (30) still has 10 tokens: the 11th send to another chat is refused.
        const more = Array.from({ length: 11 }, (_, i) => send(other, `more ${i}`));
        for (const frame of more) client.send(frame);
        const moreAnswers = await Promise.all(more.map((frame) => client.reply(frame.request_id)));
        expect(moreAnswers.filter((a) => a.type === "send_message_ack")).toHaveLength(10);
        expect(moreAnswers[10]?.payload.code).toBe("RATE_LIMITED");
        gw.clock.advance(2_000);
        const later = send(chat, "after the wait");
        client.send(later);
        expect((await client.reply(later.request_id)).type).toBe("send_message_ack");
        client.close();
      });

      it("INTERNAL_ERROR for a server fault, without leaking its cause (a DynamoDB table is missing)", async () => {
        const client = createDynamoClient({
          endpoint: engineEndpoint("dynamodb") ?? "",
          region: "us-east-1",
        });
        const tablePrefix = uniqueName("missing");
        const broken = new IngestService({
          messageStore: new DynamoMessageStore({ client, tablePrefix, clock: gw.clock }),
          chatStore: new DynamoChatStore({ client, tablePrefix, clock: gw.clock }),
          eventLog: gw.ingest.eventLog,
          clock: gw.clock,
          ids: gw.ids,
          logger: createLogger({ level: "silent" }),
          producerId: uniqueName("broken-"),
        });
        const gateway = await gw.startGateway({ ingest: broken });
        try {
          const ws = await open(alice, newDevice(), gateway);
          const frame = send(chat, "into the void");
          const error = await errorOf(ws, frame, frame.request_id);
          expect(error.payload).toEqual({ code: "INTERNAL_ERROR", message: "internal error" });
          ws.close();
        } finally {
          await gateway.close();
          client.destroy();
        }
      });

      it("SERVICE_UNAVAILABLE when the durability plane is down; after 5 failures the breaker answers at once", async () => {
        const down = new IngestGrpcClient({ address: "127.0.0.1:1", deadlineMs: 2_000 });
        const gateway = await gw.startGateway({ ingest: down });
        try {
          const client = await open(alice, newDevice(), gateway);
          for (let i = 0; i < 5; i++) {
            const frame = send(chat, `down ${i}`);
            const error = await errorOf(client, frame, frame.request_id);
            expect(error.payload.code).toBe("SERVICE_UNAVAILABLE");
          }
          const frame = send(chat, "breaker open");
          const error = await errorOf(client, frame, frame.request_id);
          expect(error.payload).toMatchObject({
            code: "SERVICE_UNAVAILABLE",
            details: { retry_after_seconds: 10 },
          });
          client.close();
        } finally {
          await gateway.close();
          down.close();
        }
      });
    });

    describe("connection_closing reasons and close codes", () => {
      it("idle_timeout (1001) after two heartbeat intervals without a heartbeat; a heartbeat restarts the timer", async () => {
        const client = await open(alice);
        gw.clock.advance(50_000);
        client.send({ type: "heartbeat", request_id: "keep", payload: {} });
        await client.reply("keep");
        gw.clock.advance(50_000);
        expect(client.ofType("connection_closing")).toHaveLength(0);
        gw.clock.advance(10_000);
        const closing = await client.next((f) => f.type === "connection_closing");
        expect(closing.request_id).toBeUndefined();
        expect(closing.payload).toEqual({
          reason: "idle_timeout",
          message: expect.any(String),
          reconnect_delay_ms: 5000,
          reconnect_allowed: true,
        });
        expect(await client.closed).toEqual({ code: 1001, reason: "idle_timeout" });
      });

      it("token_expired (1008) when the token's exp passes during the session", async () => {
        const now = gw.clock.now();
        const token = await gw.keys.token(alice, now, { exp: Math.floor(now / 1000) + 30 });
        const { client } = await connected(gw.running.url, { token, deviceId: newDevice() });
        gw.clock.advance(30_000);
        const closing = await client.next((f) => f.type === "connection_closing");
        expect(closing.payload.reason).toBe("token_expired");
        expect((await client.closed).code).toBe(1008);
      });

      it("protocol_error (1008) after 10 invalid frames within 60 s", async () => {
        const client = await open(alice);
        for (let i = 0; i < 10; i++) client.send("garbage");
        const closing = await client.next((f) => f.type === "connection_closing");
        expect(closing.payload.reason).toBe("protocol_error");
        expect(client.ofType("error")).toHaveLength(10);
        expect((await client.closed).code).toBe(1008);
      });

      it("rate_limited (1013) after persistent abuse: 100 refused requests within 60 s", async () => {
        const client = await open(alice);
        const own = await gw.ingest.chatWith([alice]);
        for (let i = 0; i < 105; i++) {
          client.send({
            type: "sync_request",
            request_id: `flood-${i}`,
            payload: { chat_id: own, last_acked_sequence: 0 },
          });
        }
        const closing = await client.next((f) => f.type === "connection_closing");
        expect(closing.payload.reason).toBe("rate_limited");
        expect(client.ofType("error").every((f) => f.payload.code === "RATE_LIMITED")).toBe(true);
        expect((await client.closed).code).toBe(1013);
      });

      it("duplicate_connection (1001): the same device connecting again evicts the older connection", async () => {
        const device = newDevice();
        const first = await open(alice, device);
        const second = await open(alice, device);
        const closing = await first.next((f) => f.type === "connection_closing");
        expect(closing.payload.reason).toBe("duplicate_connection");
        expect((await first.closed).code).toBe(1001);
        second.send({ type: "heartbeat", request_id: "still-here", payload: {} });
        await second.reply("still-here");
        const entries = await waitFor(async () => {
          const live = (await gw.running.registry.connectionsOfUser(alice)).filter(
            (e) => e.deviceId === device,
          );
          return live.length === 1 ? live : undefined;
        });
        expect(entries[0]?.connectionId).toBe(second.frames[0]?.payload.connection_id);
        second.close();
      });

      it("server_shutdown (1001) on drain: every connection told, routing entries removed, new upgrades refused with 503", async () => {
        const gateway = await gw.startGateway();
        const user = gw.ids.user();
        const clients = await Promise.all([
          open(user, newDevice(), gateway),
          open(user, newDevice(), gateway),
        ]);
        expect(await gateway.registry.connectionsOfUser(user)).toHaveLength(2);
        expect(gateway.gateway.health()).toEqual({ healthy: true, draining: false, routingReachable: true });
        const drained = gateway.gateway.drain(30_000);
        expect(gateway.gateway.health()).toMatchObject({ healthy: false, draining: true });
        for (const client of clients) {
          const closing = await client.next((f) => f.type === "connection_closing");
          expect(closing.payload.reason).toBe("server_shutdown");
          expect((await client.closed).code).toBe(1001);
        }
        await drained;
        expect(gateway.gateway.connectionCount()).toBe(0);
        await waitFor(async () => (await gateway.registry.connectionsOfUser(user)).length === 0);
        const refused = await connect(gateway.url, {
          token: await gw.keys.token(user, gw.clock.now()),
          deviceId: newDevice(),
        });
        expect(refused).toMatchObject({ refusal: { status: 503, body: { error: "service_unavailable" } } });
        await gateway.close();
      });

      it("a frame beyond 1 MiB (16x the frame limit) is not read at all: ws closes with 1009 (protocol §4 allows it)", async () => {
        const client = await open(alice);
        client.send("x".repeat(1024 * 1024 + 1));
        expect((await client.closed).code).toBe(1009);
      });

      it("closeConnections closes a user's connections of one session with the given reason", async () => {
        const user = gw.ids.user();
        const now = gw.clock.now();
        const a = (
          await connected(gw.running.url, {
            token: await gw.keys.token(user, now, { sid: "sess_a" }),
            deviceId: newDevice(),
          })
        ).client;
        const b = (
          await connected(gw.running.url, {
            token: await gw.keys.token(user, now, { sid: "sess_b" }),
            deviceId: newDevice(),
          })
        ).client;
        const closed = await gw.running.gateway.api.closeConnections({
          userId: user,
          sessionId: "sess_a",
          reason: "token_expired",
        });
        expect(closed).toBe(1);
        expect((await a.next((f) => f.type === "connection_closing")).payload.reason).toBe("token_expired");
        expect((await a.closed).code).toBe(1008);
        await expect(
          gw.running.gateway.api.closeConnections({ userId: user, reason: "bogus" }),
        ).rejects.toMatchObject({
          code: "INVALID_MESSAGE",
        });
        expect(b.ofType("connection_closing")).toHaveLength(0);
        b.close();
      });
    });
  },
);
