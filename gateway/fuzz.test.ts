import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_ERROR_CODES } from "../runtime/errors.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { seededRandom } from "../test/harness/backoff.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";
import type { Frame, TestClient } from "../test/support/gateway-harness.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const FRAMES = 10_000;
const BATCH = 250;
const SERVER_TYPES = new Set([
  "connection_established",
  "send_message_ack",
  "message",
  "sync_response",
  "heartbeat_ack",
  "error",
  "connection_closing",
]);

type Fuzz = { data: string | Buffer; binary: boolean };

function fuzzer(random: () => number, chat: ChatId) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const weird: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    -0.5,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    1e308,
    -1e308,
    "",
    " ",
    "0",
    "💥".repeat(3),
    "\u0000",
    "\ud800",
    [],
    {},
    [1, [2, [3]]],
    { a: { b: {} } },
    "chat_",
    `${chat}x`,
    chat,
    "x".repeat(5000),
    "é".repeat(2049),
    randomUUID(),
    "text/plain",
    "text/html",
  ];
  const types = [
    "send_message",
    "ack",
    "sync_request",
    "heartbeat",
    "typing_start",
    "typing_stop",
    "nope",
    "",
    "SEND_MESSAGE",
    "error",
    "message",
  ];
  const validFrame = (): Record<string, unknown> => {
    switch (int(4)) {
      case 0:
        return {
          type: "send_message",
          request_id: randomUUID(),
          payload: { client_message_id: randomUUID(), chat_id: chat, content: "fuzz" },
        };
      case 1:
        return {
          type: "sync_request",
          request_id: randomUUID(),
          payload: { chat_id: chat, last_acked_sequence: int(5), limit: int(600) },
        };
      case 2:
        return { type: "ack", payload: { chat_id: chat, last_acked_sequence: int(3) } };
      default:
        return { type: "heartbeat", request_id: randomUUID(), payload: {} };
    }
  };
  const mutate = (frame: Record<string, unknown>): Record<string, unknown> => {
    const copy = structuredClone(frame) as Record<string, unknown> & { payload?: Record<string, unknown> };
    const fields = ["type", "request_id", "timestamp", "payload", "trace_context"];
    const payloadFields = [
      "client_message_id",
      "chat_id",
      "content",
      "content_type",
      "last_acked_sequence",
      "limit",
      "extra",
    ];
    for (let i = 0, n = 1 + int(3); i < n; i++) {
      if (random() < 0.5 || typeof copy.payload !== "object" || copy.payload === null)
        copy[pick(fields)] = pick(weird);
      else if (random() < 0.8) copy.payload[pick(payloadFields)] = pick(weird);
      else delete copy.payload[pick(payloadFields)];
    }
    if (random() < 0.1) copy.type = pick(types);
    return copy;
  };
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(random() < 0.5 ? depth : depth - 1);
  return (): Fuzz => {
    const roll = random();
    if (roll < 0.35) return { data: JSON.stringify(mutate(validFrame())), binary: false };
    if (roll < 0.45) {
      const text = JSON.stringify(validFrame());
      return { data: text.slice(0, int(text.length)), binary: false };
    }
    if (roll < 0.55)
      return { data: Buffer.from(Array.from({ length: int(64) }, () => int(256))), binary: true };
    if (roll < 0.6) return { data: nested(1 + int(20_000)), binary: false };
    if (roll < 0.65)
      return { data: `{"type":"heartbeat","payload":${nested(1 + int(5_000))}}`, binary: false };
    if (roll < 0.7) return { data: JSON.stringify(pick(weird)), binary: false };
    if (roll < 0.75)
      return {
        data: Buffer.from(Array.from({ length: int(200) }, () => int(256))).toString("latin1"),
        binary: false,
      };
    if (roll < 0.77)
      return {
        data: JSON.stringify({ ...validFrame(), pad: "y".repeat(65 * 1024 + int(1024)) }),
        binary: false,
      };
    if (roll < 0.8)
      return {
        data: JSON.stringify({ type: pick(types), request_id: pick(weird), payload: {} }),
        binary: false,
      };
    if (roll < 0.85)
      return {
        data: JSON.stringify({
          type: "send_message",
          request_id: "r",
          payload: { client_message_id: "c", chat_id: chat, content: pick(weird) },
        }),
        binary: false,
      };
    return { data: JSON.stringify(validFrame()), binary: false };
  };
}

function checkDocumented(frame: Frame, sentRequestIds: ReadonlySet<string>): void {
  expect(SERVER_TYPES.has(frame.type), `undocumented frame type ${frame.type}`).toBe(true);
  expect(typeof frame.timestamp).toBe("string");
  if (frame.type === "error") {
    expect(PROTOCOL_ERROR_CODES as readonly string[]).toContain(frame.payload.code);
    expect(typeof frame.payload.message).toBe("string");
  }
  if (frame.request_id !== undefined) expect(sentRequestIds.has(frame.request_id)).toBe(true);
}

describe.skipIf(!gatewayEnginesAvailable())("fuzzing the frame parser through a real WebSocket", () => {
  // The fuzzing connection must survive its own garbage to see all of it; the thresholds have own tests.
  const gw = gatewayFixture({
    gateway: { limits: { invalidFrameCloseThreshold: 1_000_000, rateLimitedCloseThreshold: 1_000_000 } },
  });
  let alice: UserId;
  let chat: ChatId;

  beforeAll(async () => {
    alice = gw.ids.user();
    chat = await gw.ingest.chatWith([alice]);
  });

  const open = (): Promise<TestClient> => gw.open(alice);

  it(`${FRAMES} seeded random and malformed frames: the gateway stays up, answers only documented frames and codes, other connections are unaffected`, async () => {
    const next = fuzzer(seededRandom(SEED), chat);
    const fuzzing = await open();
    const bystander = await open();
    const sentRequestIds = new Set<string>();
    for (let sent = 0; sent < FRAMES; ) {
      for (let i = 0; i < BATCH; i++, sent++) {
        const { data, binary } = next();
        if (typeof data === "string") {
          const match = /"request_id":"([^"]{1,36})"/.exec(data);
          if (match?.[1] !== undefined) sentRequestIds.add(match[1]);
        }
        fuzzing.socket.send(data, { binary });
      }
      // A heartbeat closes each batch: its ack proves every frame before it was read.
      const marker = `batch-${sent}`;
      sentRequestIds.add(marker);
      fuzzing.send({ type: "heartbeat", request_id: marker, payload: {} });
      await fuzzing.reply(marker);
      bystander.send({ type: "heartbeat", request_id: `by-${sent}`, payload: {} });
      await bystander.reply(`by-${sent}`);
      gw.clock.advance(1_000);
    }
    for (const frame of fuzzing.frames) checkDocumented(frame, sentRequestIds);
    expect(fuzzing.ofType("connection_closing")).toHaveLength(0);
    expect(fuzzing.ofType("error").length).toBeGreaterThan(FRAMES / 2);
    // Every documented error the parser can produce came up.
    const codes = new Set(fuzzing.ofType("error").map((frame) => frame.payload.code));
    for (const code of ["INVALID_MESSAGE", "MESSAGE_TOO_LARGE", "INVALID_CONTENT_TYPE"])
      expect(codes).toContain(code);
    expect(bystander.frames.every((frame) => frame.type !== "error")).toBe(true);

    // Another chat: the fuzzed one may still be working through the valid sends the fuzz slipped in.
    const quiet = await gw.ingest.chatWith([alice]);
    const send = {
      type: "send_message",
      request_id: randomUUID(),
      payload: { client_message_id: randomUUID(), chat_id: quiet, content: "still works" },
    };
    gw.clock.advance(10_000);
    bystander.send(send);
    expect((await bystander.reply(send.request_id)).type).toBe("send_message_ack");
    const fresh = await open();
    fresh.close();
    fuzzing.close();
    bystander.close();
  }, 120_000);
});
