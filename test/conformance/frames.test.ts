import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import type { User } from "./support/rest.js";
import { randomUlid, World } from "./support/world.js";
import { type Frame, ISO_MS, type WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §4 (envelope) and §5 (frames and their validation), server side: what a well-formed
 * frame gets, what each malformed one gets, the 64 KB frame cap, and the invalid-frame limit.
 */
const engines = engineEnv();
const FRAME_CAP = 64 * 1024;

describe.skipIf(!engines)(
  "conformance: frames and validation (protocol §4, §5)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    let alice: User;
    let bob: User;
    let chat: string;
    /** Every frame any socket of this file received, for the envelope checks. */
    const seen: Frame[] = [];
    const sockets: WsClient[] = [];

    beforeAll(async () => {
      world = await World.start();
      [alice, bob] = (await world.users(2)) as [User, User];
      chat = await world.chat(alice, bob);
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      for (const socket of sockets) seen.push(...socket.frames);
      await world?.stop();
    }, HOOK_TIMEOUT_MS);

    const open = async (user: User = alice) => {
      const socket = await world.connect(user);
      sockets.push(socket);
      return socket;
    };

    /** Sends `frame` and resolves with the first error frame received after it. */
    const errorFor = async (client: WsClient, frame: unknown): Promise<Frame> => {
      const from = client.frames.length;
      client.send(frame);
      return client.next((f) => f.type === "error", { from });
    };

    const send = (payload: Record<string, unknown>, requestId: string | undefined = randomUUID()) => ({
      type: "send_message",
      ...(requestId === undefined ? {} : { request_id: requestId }),
      payload: { chat_id: chat, client_message_id: randomUUID(), content: "hello", ...payload },
    });

    it("§4: frames that are not JSON get INVALID_MESSAGE with a `details` object, and the connection survives", async () => {
      const client = await open();
      const error = await errorFor(client, "{not json");
      expect(error.payload).toMatchObject({ code: "INVALID_MESSAGE", message: expect.any(String) });
      expect(typeof error.payload.details).toBe("object");
      expect(error.request_id).toBeUndefined();
      const ack = await client.request("heartbeat", {});
      expect(ack.type).toBe("heartbeat_ack");
      client.close();
    });

    it("§4: a JSON value that is not an object gets INVALID_MESSAGE", async () => {
      const client = await open();
      expect((await errorFor(client, "[1,2,3]")).payload.code).toBe("INVALID_MESSAGE");
      expect((await errorFor(client, '"send_message"')).payload.code).toBe("INVALID_MESSAGE");
      client.close();
    });

    it("§4: `type` is required — a frame without it gets INVALID_MESSAGE", async () => {
      const client = await open();
      const error = await errorFor(client, { request_id: "r-no-type", payload: {} });
      expect(error.payload.code).toBe("INVALID_MESSAGE");
      client.close();
    });

    it("§4 EH-02: an unknown `type` is logged and nothing is sent back", async () => {
      const client = await open();
      const mark = client.frames.length;
      client.send({ type: "presence_subscribe", request_id: randomUUID(), payload: {} });
      client.send({ type: "message_batch", payload: {} });
      expect(await client.framesUntilHeartbeat(mark)).toEqual([]);
      client.close();
    });

    it("§4: `payload` is required on known types — without it, INVALID_MESSAGE echoing the request_id", async () => {
      const client = await open();
      const error = await errorFor(client, { type: "send_message", request_id: "r-no-payload" });
      expect(error.payload.code).toBe("INVALID_MESSAGE");
      expect(error.request_id).toBe("r-no-payload");
      client.close();
    });

    it("§4: `payload` may be `{}` (heartbeat)", async () => {
      const client = await open();
      expect((await client.request("heartbeat", {})).type).toBe("heartbeat_ack");
      client.close();
    });

    it.each(["send_message", "sync_request"])(
      "§4: `request_id` is required on %s — without it, INVALID_MESSAGE",
      async (type) => {
        const client = await open();
        const payload =
          type === "send_message"
            ? { chat_id: chat, client_message_id: randomUUID(), content: "x" }
            : { chat_id: chat, last_acked_sequence: 0 };
        const error = await errorFor(client, { type, payload });
        expect(error.payload.code).toBe("INVALID_MESSAGE");
        expect(error.request_id).toBeUndefined();
        client.close();
      },
    );

    it("§4: `request_id` on ack and typing frames is ignored — they are never answered", async () => {
      const client = await open();
      const mark = client.frames.length;
      client.send({
        type: "ack",
        request_id: randomUUID(),
        payload: { chat_id: chat, last_acked_sequence: 0 },
      });
      client.send({ type: "typing_start", request_id: randomUUID(), payload: { chat_id: chat } });
      client.send({ type: "typing_stop", payload: { chat_id: chat } });
      expect(await client.framesUntilHeartbeat(mark)).toEqual([]);
      client.close();
    });

    it("§4: `timestamp` sent by a client is accepted (debug only)", async () => {
      const client = await open();
      const requestId = randomUUID();
      client.send({
        type: "heartbeat",
        request_id: requestId,
        timestamp: new Date().toISOString(),
        payload: {},
      });
      expect((await client.reply(requestId)).type).toBe("heartbeat_ack");
      client.close();
    });

    it("§4: a frame of exactly 64 KB is processed", async () => {
      const client = await open();
      const requestId = randomUUID();
      const shell = JSON.stringify({ type: "heartbeat", request_id: requestId, payload: { pad: "" } });
      const frame = shell.replace('"pad":""', `"pad":"${"x".repeat(FRAME_CAP - shell.length)}"`);
      expect(Buffer.byteLength(frame)).toBe(FRAME_CAP);
      client.send(frame);
      expect((await client.reply(requestId)).type).toBe("heartbeat_ack");
      client.close();
    });

    it("§4: a frame over 64 KB is rejected (INVALID_MESSAGE, or close 1009 — the reply is [Unspec]) and never processed", async () => {
      const client = await open();
      const frame = send({ content: "y".repeat(FRAME_CAP) });
      client.send(frame);
      const outcome = await Promise.race([
        client
          .next((f) => f.type === "error" || f.request_id === frame.request_id)
          .then((f) => ({ frame: f })),
        client.closed.then((closed) => ({ closed })),
      ]);
      if ("closed" in outcome) expect(outcome.closed.code).toBe(1009);
      else {
        expect(outcome.frame.type).toBe("error");
        expect(outcome.frame.payload.code).toBe("INVALID_MESSAGE");
      }
      client.close();
    });

    it("§4: a binary frame (the protocol is JSON text frames) gets INVALID_MESSAGE", async () => {
      const client = await open();
      const from = client.frames.length;
      client.socket.send(Buffer.from(JSON.stringify({ type: "heartbeat", payload: {} })), { binary: true });
      const error = await client.next((f) => f.type === "error", { from });
      expect(error.payload.code).toBe("INVALID_MESSAGE");
      client.close();
    });

    it("§5 validation: empty content -> INVALID_MESSAGE with details", async () => {
      const client = await open();
      const frame = send({ content: "" });
      const error = await errorFor(client, frame);
      expect(error.request_id).toBe(frame.request_id);
      expect(error.payload).toMatchObject({ code: "INVALID_MESSAGE", details: expect.any(Object) });
      client.close();
    });

    it("§5 validation: content over 4096 UTF-8 bytes -> MESSAGE_TOO_LARGE, counted in bytes (2049 × 'é' = 4098 B)", async () => {
      const client = await open();
      const frame = send({ content: "é".repeat(2049) });
      const error = await errorFor(client, frame);
      expect(error.request_id).toBe(frame.request_id);
      expect(error.payload).toMatchObject({ code: "MESSAGE_TOO_LARGE", details: expect.any(Object) });
      client.close();
    });

    it("§5 validation: exactly 4096 UTF-8 bytes of multi-byte content (2048 × 'é') is accepted; 1024 emoji likewise", async () => {
      const client = await open();
      const accented = await client.sendMessage(chat, "é".repeat(2048));
      expect(accented.type).toBe("send_message_ack");
      const emoji = await client.sendMessage(chat, "👋".repeat(1024));
      expect(emoji.type).toBe("send_message_ack");
      client.close();
    });

    it("§5 validation: a content_type other than text/plain -> INVALID_CONTENT_TYPE", async () => {
      const client = await open();
      const frame = send({ content_type: "text/html" });
      const error = await errorFor(client, frame);
      expect(error.request_id).toBe(frame.request_id);
      expect(error.payload).toMatchObject({ code: "INVALID_CONTENT_TYPE", details: expect.any(Object) });
      client.close();
    });

    it("§5: content_type is optional and defaults to text/plain", async () => {
      const client = await open();
      const ack = await client.sendMessage(chat, "no content type");
      expect(ack.type).toBe("send_message_ack");
      const sequence = ack.payload.sequence as number;
      const page = await client.request("sync_request", {
        chat_id: chat,
        last_acked_sequence: sequence - 1,
        limit: 1,
      });
      expect(page.payload.messages).toEqual([
        expect.objectContaining({ sequence, content: "no content type", content_type: "text/plain" }),
      ]);
      client.close();
    });

    it("§5 validation (ids per §2): a chat_id that is not `chat_`+ULID -> INVALID_MESSAGE", async () => {
      const client = await open();
      for (const chatId of ["chat_01HQX123ABC", `msg_${randomUlid()}`, 42]) {
        const frame = send({ chat_id: chatId });
        const error = await errorFor(client, frame);
        expect(error.payload.code).toBe("INVALID_MESSAGE");
        expect(error.request_id).toBe(frame.request_id);
      }
      client.close();
    });

    it("§5 validation (ids per §2): a client_message_id over 36 characters or missing -> INVALID_MESSAGE", async () => {
      const client = await open();
      const long = send({ client_message_id: `${randomUUID()}-extra` });
      expect((await errorFor(client, long)).payload.code).toBe("INVALID_MESSAGE");
      const missing = send({ client_message_id: undefined });
      expect((await errorFor(client, missing)).payload.code).toBe("INVALID_MESSAGE");
      client.close();
    });

    it("§2/§4: a request_id over 36 characters -> INVALID_MESSAGE (it cannot be echoed)", async () => {
      const client = await open();
      const error = await errorFor(client, send({}, `${randomUUID()}-x`));
      expect(error.payload.code).toBe("INVALID_MESSAGE");
      expect(error.request_id).toBeUndefined();
      client.close();
    });

    it("§5 validation: sequence fields are integers 0..2^53−1 — negative, fractional or 2^53 -> INVALID_MESSAGE", async () => {
      const client = await open();
      for (const value of [-1, 1.5, 2 ** 53, "3"]) {
        const requestId = randomUUID();
        const error = await errorFor(client, {
          type: "sync_request",
          request_id: requestId,
          payload: { chat_id: chat, last_acked_sequence: value },
        });
        expect(error.payload.code).toBe("INVALID_MESSAGE");
        expect(error.request_id).toBe(requestId);
      }
      client.close();
    });

    it("§5 validation: the largest sequence, 2^53−1, is a valid cursor (an empty page)", async () => {
      const client = await open();
      const page = await client.request("sync_request", { chat_id: chat, last_acked_sequence: 2 ** 53 - 1 });
      expect(page.type).toBe("sync_response");
      expect(page.payload).toMatchObject({ chat_id: chat, messages: [], has_more: false });
      client.close();
    });

    it("§5: ≥10 invalid frames within 60 s close the connection with connection_closing{protocol_error}", async () => {
      const client = await open(bob);
      for (let i = 0; i < 10; i++) client.send(`garbage ${i}`);
      const closing = await client.next((f) => f.type === "connection_closing");
      expect(closing.request_id).toBeUndefined();
      expect(closing.payload).toMatchObject({
        reason: "protocol_error",
        message: expect.any(String),
        reconnect_delay_ms: expect.any(Number),
      });
      const closed = await client.closed;
      expect(closed.code).not.toBe(1000);
      expect(client.ofType("error")).toHaveLength(10);
    });

    it("§4 envelope: every server frame is a JSON text object with a string `type`, a server `timestamp` and an object `payload`", async () => {
      const client = await open();
      await client.request("heartbeat", {});
      await client.sendMessage(chat, "envelope");
      await client.request("sync_request", { chat_id: chat, last_acked_sequence: 0, limit: 1 });
      await errorFor(client, "nope");
      client.close();
      const frames = [...sockets.flatMap((socket) => socket.frames)];
      const types = new Set(frames.map((frame) => frame.type));
      expect([...types]).toEqual(
        expect.arrayContaining([
          "connection_established",
          "heartbeat_ack",
          "send_message_ack",
          "sync_response",
          "error",
        ]),
      );
      for (const frame of frames) {
        expect(typeof frame.type).toBe("string");
        expect(frame.timestamp).toMatch(ISO_MS);
        expect(typeof frame.payload).toBe("object");
        expect(frame.payload).not.toBeNull();
        expect(Array.isArray(frame.payload)).toBe(false);
      }
      for (const socket of sockets) expect(socket.garbage).toEqual([]);
    });
  },
);
