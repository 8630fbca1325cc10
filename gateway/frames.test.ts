import { describe, expect, it } from "vitest";
import { parseFrame } from "./frames.js";

const LIMITS = { maxFrameBytes: 64 * 1024, maxContentBytes: 4096 };
const CHAT = "chat_01JQ7Z8X9Y0000000000000000";
const parse = (value: unknown) =>
  parseFrame(typeof value === "string" ? value : JSON.stringify(value), false, LIMITS);

describe("frame parsing and validation (spec/protocol.md §4-§5)", () => {
  it("accepts each client frame type and fills defaults", () => {
    expect(
      parse({
        type: "send_message",
        request_id: "r",
        payload: { client_message_id: "c-1", chat_id: CHAT, content: "hi" },
      }),
    ).toEqual({
      kind: "frame",
      frame: {
        type: "send_message",
        requestId: "r",
        chatId: CHAT,
        clientMessageId: "c-1",
        content: "hi",
        contentType: "text/plain",
      },
    });
    expect(parse({ type: "ack", payload: { chat_id: CHAT, last_acked_sequence: 0 } })).toMatchObject({
      kind: "frame",
    });
    expect(
      parse({
        type: "sync_request",
        request_id: "s",
        payload: { chat_id: CHAT, last_acked_sequence: 3, limit: 10 },
      }),
    ).toMatchObject({
      kind: "frame",
      frame: { limit: 10, lastAckedSequence: 3 },
    });
    expect(parse({ type: "heartbeat", payload: {} })).toEqual({
      kind: "frame",
      frame: { type: "heartbeat", requestId: undefined },
    });
  });

  it("an unknown type is reported as unknown, not invalid", () => {
    expect(parse({ type: "presence_subscribe", payload: {} })).toEqual({
      kind: "unknown",
      type: "presence_subscribe",
    });
  });

  it("sequence fields: integers 0..2^53-1 only", () => {
    for (const bad of [-1, 1.5, 2 ** 53, "1", null]) {
      const parsed = parse({ type: "ack", payload: { chat_id: CHAT, last_acked_sequence: bad } });
      expect(parsed).toMatchObject({
        kind: "invalid",
        error: { code: "INVALID_MESSAGE", details: { field: "last_acked_sequence" } },
      });
    }
    expect(
      parse({ type: "ack", payload: { chat_id: CHAT, last_acked_sequence: 2 ** 53 - 1 } }),
    ).toMatchObject({ kind: "frame" });
  });

  it("content is measured in UTF-8 bytes", () => {
    const emoji = "😀".repeat(1024);
    expect(Buffer.byteLength(emoji)).toBe(4096);
    expect(
      parse({
        type: "send_message",
        request_id: "r",
        payload: { client_message_id: "c", chat_id: CHAT, content: emoji },
      }),
    ).toMatchObject({ kind: "frame" });
    expect(
      parse({
        type: "send_message",
        request_id: "r",
        payload: { client_message_id: "c", chat_id: CHAT, content: `${emoji}a` },
      }),
    ).toMatchObject({
      kind: "invalid",
      requestId: "r",
      error: { code: "MESSAGE_TOO_LARGE", details: { received_bytes: 4097, max_bytes: 4096 } },
    });
  });

  it("a deeply nested frame is invalid JSON-wise or structurally, never a crash", () => {
    expect(parse("[".repeat(30_000) + "]".repeat(30_000))).toMatchObject({ kind: "invalid" });
    expect(parse(`{"type":"heartbeat","payload":${"[".repeat(20_000)}${"]".repeat(20_000)}}`)).toMatchObject({
      kind: "invalid",
    });
  });

  it("binary frames and frames over the size limit are invalid", () => {
    expect(parseFrame(Buffer.from("{}"), true, LIMITS)).toMatchObject({
      kind: "invalid",
      error: { details: { field: "frame" } },
    });
    expect(parseFrame("x".repeat(64 * 1024 + 1), false, LIMITS)).toMatchObject({
      kind: "invalid",
      error: { details: { field: "frame", received_bytes: 64 * 1024 + 1 } },
    });
  });
});
