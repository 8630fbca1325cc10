import { describe, expect, it } from "vitest";
import { processCpuSeconds } from "./process-cpu.js";
import { WIRES } from "./wire.js";

describe("load generator wires", () => {
  it("a platform push becomes a message event with its chat, sequence and content", () => {
    const push = JSON.stringify({
      type: "message",
      timestamp: "2025-01-01T00:00:00.000Z",
      payload: { chat_id: "chat_1", sequence: 7, content: "12.5|3|xx", message_id: "m", sender_id: "u" },
    });
    expect(WIRES.platform.parse(push)).toEqual([
      { kind: "message", chatId: "chat_1", sequence: 7, content: "12.5|3|xx" },
    ]);
    expect(WIRES.platform.accepted(JSON.stringify({ type: "connection_established", payload: {} }))).toBe(
      true,
    );
    expect(
      WIRES.platform.accepted(JSON.stringify({ type: "error", payload: { code: "UNAUTHORIZED" } })),
    ).toBe(false);
  });

  it("a platform ack is cumulative per chat", () => {
    expect(JSON.parse(WIRES.platform.ack("chat_1", 42) ?? "")).toEqual({
      type: "ack",
      payload: { chat_id: "chat_1", last_acked_sequence: 42 },
    });
  });

  it("a batched Centrifugo frame yields one event per line, and its empty ping asks for an empty pong", () => {
    const frame = [
      JSON.stringify({ id: 3, publish: {} }),
      JSON.stringify({ push: { channel: "groups:chat-1", pub: { data: { text: "1|0|x" }, offset: 5 } } }),
      "{}",
      JSON.stringify({ id: 4, error: { code: 103, message: "permission denied" } }),
    ].join("\n");
    expect(WIRES.centrifugo.parse(frame)).toEqual([
      { kind: "send_ack" },
      { kind: "message", chatId: "groups:chat-1", sequence: 5, content: "1|0|x" },
      { kind: "ping", reply: "{}" },
      { kind: "error", code: "centrifugo_103" },
    ]);
  });

  it("a Centrifugo connection is accepted only on a connect reply without an error", () => {
    expect(WIRES.centrifugo.accepted(JSON.stringify({ id: 1, connect: { client: "c" } }))).toBe(true);
    expect(WIRES.centrifugo.accepted(JSON.stringify({ id: 1, error: { code: 109 } }))).toBe(false);
    expect(WIRES.centrifugo.ack("groups:chat-1", 1)).toBeUndefined();
  });

  it("a Centrifugo publish carries the content as JSON data under a positive command id", () => {
    expect(JSON.parse(WIRES.centrifugo.send("groups:chat-1", "0", "abc"))).toEqual({
      id: 1,
      publish: { channel: "groups:chat-1", data: { text: "abc" } },
    });
  });
});

describe("process CPU", () => {
  it("reads a process's CPU seconds from /proc the same way for this process", () => {
    const seconds = processCpuSeconds(process.pid);
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThanOrEqual(
      process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 + 0.05,
    );
  });
});
