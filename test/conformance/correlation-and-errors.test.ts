import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import { call, type User } from "./support/rest.js";
import { randomUlid, World } from "./support/world.js";
import type { Frame, WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §4 (request correlation by request_id), §6 (error codes) and the server side of
 * client-contract EH-01, EH-03, RS-04: replies echo their request, pushes carry none, every error code is a
 * documented one, and membership is decided afresh on every request.
 */
const engines = engineEnv();

/** protocol §6: "No other codes may be sent." */
const DOCUMENTED_CODES = [
  "INVALID_MESSAGE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_A_MEMBER",
  "NOT_FOUND",
  "RATE_LIMITED",
  "MESSAGE_TOO_LARGE",
  "INVALID_CONTENT_TYPE",
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
  "SLOW_CONSUMER",
];

describe.skipIf(!engines)(
  "conformance: correlation and error codes (protocol §4, §6)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    let alice: User;
    let bob: User;
    let carol: User;
    let chat: string;
    let other: string;
    const sockets: WsClient[] = [];

    beforeAll(async () => {
      world = await World.start();
      [alice, bob, carol] = (await world.users(3)) as [User, User, User];
      [chat, other] = await Promise.all([world.chat(alice, bob), world.chat(alice, bob)]);
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      await world?.stop();
    }, HOOK_TIMEOUT_MS);

    const open = async (user: User) => {
      const socket = await world.connect(user);
      sockets.push(socket);
      return socket;
    };

    it("§4 request_response_correlation: interleaved sends, syncs and heartbeats each get exactly one reply echoing their request_id", async () => {
      const client = await open(alice);
      const requests = new Map<string, { type: string; clientMessageId?: string; chatId?: string }>();
      // Four syncs: under the documented 5 sync_requests per second (§11).
      for (let i = 0; i < 4; i++) {
        const chatId = i % 2 === 0 ? chat : other;
        const send = { requestId: randomUUID(), clientMessageId: randomUUID() };
        requests.set(send.requestId, { type: "send_message", clientMessageId: send.clientMessageId, chatId });
        client.send({
          type: "send_message",
          request_id: send.requestId,
          payload: { chat_id: chatId, client_message_id: send.clientMessageId, content: `interleaved ${i}` },
        });
        const sync = randomUUID();
        requests.set(sync, { type: "sync_request", chatId });
        client.send({
          type: "sync_request",
          request_id: sync,
          payload: { chat_id: chatId, last_acked_sequence: 0 },
        });
        const beat = randomUUID();
        requests.set(beat, { type: "heartbeat" });
        client.send({ type: "heartbeat", request_id: beat, payload: {} });
      }
      const replies = await Promise.all([...requests.keys()].map((id) => client.reply(id)));
      const expected: Record<string, string> = {
        send_message: "send_message_ack",
        sync_request: "sync_response",
        heartbeat: "heartbeat_ack",
      };
      for (const reply of replies) {
        const request = requests.get(reply.request_id ?? "");
        expect(request).toBeDefined();
        expect(reply.type).toBe(expected[request?.type ?? ""]);
        if (request?.type === "send_message") {
          expect(reply.payload).toMatchObject({
            client_message_id: request.clientMessageId,
            chat_id: request.chatId,
          });
        }
        if (request?.type === "sync_request") expect(reply.payload.chat_id).toBe(request.chatId);
      }
      // Exactly one reply per request.
      await client.framesUntilHeartbeat(0);
      const echoed = client.frames.filter(
        (frame) => frame.request_id !== undefined && requests.has(frame.request_id),
      );
      expect(echoed).toHaveLength(requests.size);
      client.close();
    });

    it("§4 send_ack_matches_request: the ack names the client_message_id and chat_id of its request", async () => {
      const client = await open(alice);
      const clientMessageId = randomUUID();
      const ack = await client.sendMessage(other, "matched", clientMessageId);
      expect(ack.type).toBe("send_message_ack");
      expect(ack.payload).toMatchObject({ client_message_id: clientMessageId, chat_id: other });
      client.close();
    });

    it("§4: heartbeat's request_id is echoed when sent and absent when not", async () => {
      const client = await open(alice);
      const echoed = await client.request("heartbeat", {}, "hb-echo-1");
      expect(echoed).toMatchObject({ type: "heartbeat_ack", request_id: "hb-echo-1" });
      const from = client.frames.length;
      client.send({ type: "heartbeat", payload: {} });
      const bare = await client.next((frame) => frame.type === "heartbeat_ack", { from });
      expect(bare.request_id).toBeUndefined();
      expect("request_id" in JSON.parse(bare.raw)).toBe(false);
      client.close();
    });

    it("§4 server_push_no_request_id: message pushes, connection_established and connection_closing never carry a request_id", async () => {
      const sender = await open(alice);
      const receiver = await open(bob);
      const ack = await sender.sendMessage(chat, "a push for bob");
      const push = await receiver.next(
        (frame) => frame.type === "message" && frame.payload.message_id === ack.payload.message_id,
      );
      expect("request_id" in JSON.parse(push.raw)).toBe(false);
      expect("request_id" in JSON.parse(receiver.established.raw)).toBe(false);
      // A second socket of the same device makes the first one close with connection_closing.
      const device = `dev-${randomUUID()}`;
      const first = await world.connect(carol, device);
      const second = await world.connect(carol, device);
      const closing = await first.next((frame) => frame.type === "connection_closing");
      expect("request_id" in JSON.parse(closing.raw)).toBe(false);
      for (const client of [sender, receiver, second]) client.close();
    });

    it("§4: errors to a request echo its request_id; an error about a frame without a usable request_id carries none", async () => {
      const client = await open(alice);
      const bound = await client.request("send_message", {
        chat_id: chat,
        client_message_id: randomUUID(),
        content: "",
      });
      expect(bound).toMatchObject({ type: "error", payload: { code: "INVALID_MESSAGE" } });
      const from = client.frames.length;
      client.send("{}");
      const unbound = await client.next((frame) => frame.type === "error", { from });
      expect("request_id" in JSON.parse(unbound.raw)).toBe(false);
      client.close();
    });

    it("§6 NOT_A_MEMBER: a send or a sync to a chat the user is not in (invariant 6), and nothing is stored", async () => {
      const stranger = await open(carol);
      const before = await (await open(alice)).request("sync_request", {
        chat_id: chat,
        last_acked_sequence: 0,
      });
      const send = await stranger.sendMessage(chat, "let me in");
      expect(send).toMatchObject({
        type: "error",
        payload: { code: "NOT_A_MEMBER", message: expect.any(String) },
      });
      const sync = await stranger.request("sync_request", { chat_id: chat, last_acked_sequence: 0 });
      expect(sync).toMatchObject({ type: "error", payload: { code: "NOT_A_MEMBER" } });
      const member = await open(bob);
      const after = await member.request("sync_request", { chat_id: chat, last_acked_sequence: 0 });
      const contents = (after.payload.messages as Array<{ content: string }>).map((m) => m.content);
      expect(contents).not.toContain("let me in");
      expect(after.payload.messages).toHaveLength((before.payload.messages as unknown[]).length);
      stranger.close();
      member.close();
    });

    it("§6: a chat that does not exist answers NOT_A_MEMBER or NOT_FOUND (both documented; neither leaks existence)", async () => {
      const client = await open(alice);
      const reply = await client.sendMessage(`chat_${randomUlid()}`, "anyone?");
      expect(reply.type).toBe("error");
      expect(["NOT_A_MEMBER", "NOT_FOUND"]).toContain(reply.payload.code);
      const sync = await client.request("sync_request", {
        chat_id: `chat_${randomUlid()}`,
        last_acked_sequence: 0,
      });
      expect(["NOT_A_MEMBER", "NOT_FOUND"]).toContain(sync.payload.code);
      client.close();
    });

    it("RS-04/EH-03 server side: membership is checked on every request — removal is effective at once, and so is re-adding", async () => {
      const group = await world.chat(alice, bob, carol);
      const client = await open(carol);
      expect((await client.sendMessage(group, "while a member")).type).toBe("send_message_ack");
      const removed = await call(world.baseUrl, "DELETE", `/api/v1/chats/${group}/members/${carol.userId}`, {
        token: alice.accessToken,
      });
      expect(removed.status).toBe(204);
      const refused = await client.sendMessage(group, "after removal");
      expect(refused.payload.code).toBe("NOT_A_MEMBER");
      const syncRefused = await client.request("sync_request", { chat_id: group, last_acked_sequence: 0 });
      expect(syncRefused.payload.code).toBe("NOT_A_MEMBER");
      // NOT_A_MEMBER is stable: asking again does not change the answer (a client must not retry, RS-04).
      expect((await client.sendMessage(group, "again")).payload.code).toBe("NOT_A_MEMBER");
      const added = await call(world.baseUrl, "POST", `/api/v1/chats/${group}/members`, {
        token: alice.accessToken,
        body: { user_id: carol.userId },
      });
      expect(added.status).toBe(201);
      expect((await client.sendMessage(group, "back again")).type).toBe("send_message_ack");
      client.close();
    });

    it("§6 error_code_is_documented: every error frame of this file has a documented code, a string message and an object details if any", async () => {
      const client = await open(alice);
      await client.request("send_message", {
        chat_id: chat,
        client_message_id: randomUUID(),
        content: "x".repeat(5000),
      });
      await client.request("send_message", {
        chat_id: chat,
        client_message_id: randomUUID(),
        content: "x",
        content_type: "image/png",
      });
      await client.request("sync_request", { chat_id: chat, last_acked_sequence: -5 });
      client.close();
      const errors: Frame[] = sockets.flatMap((socket) => socket.ofType("error"));
      expect(errors.length).toBeGreaterThanOrEqual(8);
      for (const error of errors) {
        expect(DOCUMENTED_CODES).toContain(error.payload.code);
        expect(typeof error.payload.message).toBe("string");
        if (error.payload.details !== undefined) {
          expect(typeof error.payload.details).toBe("object");
          expect(Array.isArray(error.payload.details)).toBe(false);
        }
      }
      expect([...new Set(errors.map((error) => error.payload.code))]).toEqual(
        expect.arrayContaining([
          "INVALID_MESSAGE",
          "NOT_A_MEMBER",
          "MESSAGE_TOO_LARGE",
          "INVALID_CONTENT_TYPE",
        ]),
      );
    });
  },
);
