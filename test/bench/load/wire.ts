import { randomUUID } from "node:crypto";

/**
 * The frames the load generator (./client-process.ts) speaks to each system it measures: our protocol
 * (spec/protocol.md) and Centrifugo's JSON client protocol, the baseline of the groups scenario. A wire turns
 * a scheduled send into a frame and a received frame into the events the generator counts, so the timetable,
 * the stamps and the accounting stay one code path for both systems.
 */

export type WireName = "platform" | "centrifugo";

/** What one received frame (or one line of a batched Centrifugo frame) means to the generator. */
export type WireEvent =
  | {
      readonly kind: "message";
      readonly chatId: string;
      readonly sequence: number;
      readonly content: string;
    }
  | { readonly kind: "send_ack" }
  | { readonly kind: "error"; readonly code: string }
  /** The server asks for `reply` to keep the connection (Centrifugo's application-level ping). */
  | { readonly kind: "ping"; readonly reply: string }
  | { readonly kind: "other" };

export interface Wire {
  /** Whether the first frame after the handshake says the connection was accepted. */
  accepted(data: string): boolean;
  send(chatId: string, requestId: string, content: string): string;
  /** A cumulative delivery ack for a chat; undefined when the system has none. */
  ack(chatId: string, sequence: number): string | undefined;
  /** The client's periodic keep-alive; undefined when the server drives it (a `ping` event). */
  heartbeat(): string | undefined;
  parse(data: string): WireEvent[];
}

interface PlatformFrame {
  readonly type: string;
  readonly payload?: { chat_id?: string; sequence?: number; content?: string; code?: string };
}

const platform: Wire = {
  accepted: (data) => (JSON.parse(data) as PlatformFrame).type === "connection_established",
  send: (chatId, requestId, content) =>
    JSON.stringify({
      type: "send_message",
      request_id: requestId,
      payload: { chat_id: chatId, client_message_id: randomUUID(), content, content_type: "text/plain" },
    }),
  ack: (chatId, sequence) =>
    JSON.stringify({ type: "ack", payload: { chat_id: chatId, last_acked_sequence: sequence } }),
  heartbeat: () => JSON.stringify({ type: "heartbeat", payload: {} }),
  parse(data) {
    const frame = JSON.parse(data) as PlatformFrame;
    switch (frame.type) {
      case "message":
        return [
          {
            kind: "message",
            chatId: frame.payload?.chat_id ?? "",
            sequence: frame.payload?.sequence ?? 0,
            content: frame.payload?.content ?? "",
          },
        ];
      case "send_message_ack":
        return [{ kind: "send_ack" }];
      case "error":
        return [{ kind: "error", code: frame.payload?.code ?? "unknown" }];
      default:
        return [{ kind: "other" }];
    }
  },
};

interface CentrifugoReply {
  readonly id?: number;
  readonly connect?: unknown;
  readonly publish?: unknown;
  readonly error?: { readonly code?: number; readonly message?: string };
  readonly push?: {
    readonly channel?: string;
    readonly pub?: { readonly data?: { readonly text?: string }; readonly offset?: number };
  };
}

/**
 * Centrifugo's JSON protocol: commands `{id, <method>: {...}}`, replies with the same id, pushes under `push`;
 * the server may batch several replies into one frame, one JSON document per line. An empty object is the
 * server's ping, which a bidirectional client must answer with an empty object or be disconnected.
 */
const centrifugo: Wire = {
  accepted: (data) => {
    const first = JSON.parse(data.split("\n", 1)[0] ?? "{}") as CentrifugoReply;
    return first.connect !== undefined && first.error === undefined;
  },
  send: (channel, requestId, content) =>
    JSON.stringify({ id: Number(requestId) + 1, publish: { channel, data: { text: content } } }),
  ack: () => undefined,
  heartbeat: () => undefined,
  parse(data) {
    const events: WireEvent[] = [];
    for (const line of data.split("\n")) {
      if (line === "") continue;
      const reply = JSON.parse(line) as CentrifugoReply;
      if (reply.push?.pub !== undefined) {
        events.push({
          kind: "message",
          chatId: reply.push.channel ?? "",
          sequence: reply.push.pub.offset ?? 0,
          content: reply.push.pub.data?.text ?? "",
        });
      } else if (reply.error !== undefined) {
        events.push({ kind: "error", code: `centrifugo_${reply.error.code ?? "unknown"}` });
      } else if (reply.publish !== undefined) {
        events.push({ kind: "send_ack" });
      } else if (reply.id === undefined && reply.push === undefined) {
        events.push({ kind: "ping", reply: "{}" });
      } else {
        events.push({ kind: "other" });
      }
    }
    return events;
  },
};

export const WIRES: Readonly<Record<WireName, Wire>> = { platform, centrifugo };
