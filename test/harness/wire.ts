import { z } from "zod";

/**
 * The frames of spec/protocol.md §4–§5 as the client sees them: builders for what it sends, and a parser for
 * what it receives. A frame of an unknown type, or one whose payload does not match, is reported rather than
 * thrown, so the client logs it and carries on (EH-02).
 */

/** MS-06: content is 1–4096 UTF-8 bytes, counted in bytes, not UTF-16 units. */
export const MAX_CONTENT_BYTES = 4096;
/** Protocol §10: sync page size default 100, at most 500. */
export const MAX_SYNC_LIMIT = 500;

/** Protocol §6: every error code a server may send (EH-01). */
export const ERROR_CODES = [
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
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export const isErrorCode = (value: string): value is ErrorCode =>
  (ERROR_CODES as readonly string[]).includes(value);

export type ClientFrame =
  | {
      type: "send_message";
      request_id: string;
      payload: { client_message_id: string; chat_id: string; content: string; content_type: "text/plain" };
    }
  | { type: "ack"; payload: { chat_id: string; last_acked_sequence: number } }
  | {
      type: "sync_request";
      request_id: string;
      payload: { chat_id: string; last_acked_sequence: number; limit: number };
    }
  | { type: "heartbeat"; request_id: string; payload: Record<string, never> };

const sequence = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const syncMessage = z.object({
  message_id: z.string(),
  sequence,
  sender_id: z.string(),
  content: z.string(),
  content_type: z.string(),
  created_at: z.string(),
});

const serverFrames = {
  connection_established: z.object({
    connection_id: z.string(),
    user_id: z.string(),
    device_id: z.string(),
    server_time: z.string(),
    heartbeat_interval_ms: z.number().int().positive(),
    protocol_version: z.number().int(),
  }),
  send_message_ack: z.object({
    client_message_id: z.string(),
    message_id: z.string(),
    chat_id: z.string(),
    sequence,
    created_at: z.string(),
  }),
  message: syncMessage.extend({ chat_id: z.string() }),
  sync_response: z.object({
    chat_id: z.string(),
    messages: z.array(syncMessage),
    has_more: z.boolean(),
    next_sequence: z.number().int().optional(),
  }),
  heartbeat_ack: z.object({ server_time: z.string() }),
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  connection_closing: z.object({
    reason: z.string(),
    message: z.string(),
    reconnect_delay_ms: z.number().int().min(0),
  }),
} as const;

type Payloads = { [K in keyof typeof serverFrames]: z.infer<(typeof serverFrames)[K]> };

export type ServerFrame = {
  [K in keyof Payloads]: { type: K; request_id: string | undefined; payload: Payloads[K] };
}[keyof Payloads];

export type WireMessage = Payloads["message"];
export type SyncResponse = Payloads["sync_response"];
export type SendAck = Payloads["send_message_ack"];
export type ErrorPayload = Payloads["error"];

const envelope = z.object({
  type: z.string(),
  request_id: z.string().optional(),
  payload: z.unknown(),
});

export type ParsedServerFrame =
  | { kind: "frame"; frame: ServerFrame }
  | { kind: "unknown"; type: string }
  | { kind: "invalid"; reason: string };

const isKnown = (type: string): type is keyof typeof serverFrames => Object.hasOwn(serverFrames, type);

export function parseServerFrame(text: string): ParsedServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "not JSON" };
  }
  const outer = envelope.safeParse(value);
  if (!outer.success) return { kind: "invalid", reason: "not a frame envelope" };
  const { type, request_id, payload } = outer.data;
  if (!isKnown(type)) return { kind: "unknown", type };
  const inner = serverFrames[type].safeParse(payload);
  if (!inner.success) return { kind: "invalid", reason: `bad ${type} payload: ${inner.error.message}` };
  return { kind: "frame", frame: { type, request_id, payload: inner.data } as ServerFrame };
}

export const contentBytes = (content: string): number => Buffer.byteLength(content, "utf8");
