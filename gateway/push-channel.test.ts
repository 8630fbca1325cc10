import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { DEFAULT_GATEWAY_LIMITS } from "./limits.js";
import { type FlowSignal, PushChannel } from "./push-channel.js";

/** A socket whose writes never finish: whatever is queued stays queued (a client that stopped reading). */
const stalledSocket = (): { socket: WebSocket; sent: string[] } => {
  const sent: string[] = [];
  const socket = { send: (data: string) => sent.push(data) } as unknown as WebSocket;
  return { socket, sent };
};

describe("ephemeral frames under backpressure (PushChannel.pushEphemeral)", () => {
  const limits = {
    ...DEFAULT_GATEWAY_LIMITS,
    outboundMaxMessages: 20,
    outboundMaxBytes: 1024 * 1024,
    ephemeralDropRatio: 0.25,
  };
  const frame = JSON.stringify({ type: "typing_indicator", payload: { is_typing: true } });
  const bytes = Buffer.byteLength(frame);

  it("queues an ephemeral frame below the low threshold, counting no message and signalling nothing", () => {
    const { socket, sent } = stalledSocket();
    const signals: FlowSignal[] = [];
    const channel = new PushChannel(socket, limits, { flow: (signal) => signals.push(signal) });
    for (let i = 0; i < 4; i++) expect(channel.push(`m${i}`, 2, `chat:${i}`)).toBe("delivered");
    expect(channel.pushEphemeral(frame, bytes)).toBe(true);
    expect(channel.messages).toBe(4);
    expect(sent).toContain(frame);
    expect(signals).toEqual([]);
  });

  it("drops an ephemeral frame once the buffer is at the low threshold, long before SLOW_CONSUMER", () => {
    const { socket, sent } = stalledSocket();
    const signals: FlowSignal[] = [];
    const channel = new PushChannel(socket, limits, { flow: (signal) => signals.push(signal) });
    for (let i = 0; i < 5; i++) channel.push(`m${i}`, 2, `chat:${i}`);
    expect(channel.fill).toBe(0.25);
    expect(channel.pushEphemeral(frame, bytes)).toBe(false);
    expect(sent).not.toContain(frame);
    // Nothing the client missed is signalled: typing is worth nothing late, and it never closes a connection.
    expect(signals).toEqual([]);
  });

  it("many ephemeral frames never bring a connection to its slow-consumer warning", () => {
    const { socket } = stalledSocket();
    const signals: FlowSignal[] = [];
    const small = { ...limits, outboundMaxBytes: 10 * bytes };
    const channel = new PushChannel(socket, small, { flow: (signal) => signals.push(signal) });
    let queued = 0;
    for (let i = 0; i < 100; i++) if (channel.pushEphemeral(frame, bytes)) queued++;
    // Queued while under a quarter of the bytes, then dropped: at most one frame past the threshold.
    expect(queued).toBe(3);
    expect(channel.fill).toBeLessThan(small.slowConsumerRatio);
    expect(signals).toEqual([]);
  });
});
