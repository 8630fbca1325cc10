import { AppError } from "../runtime/errors.js";
import { type ChatId, isChatId, MAX_SEQUENCE } from "../runtime/ids.js";
import { CONTENT_TYPES, type ContentType } from "../runtime/ports/message-store.js";
import { traceparentOfFrame } from "../runtime/tracing/propagation.js";

/**
 * Client frames of spec/protocol.md §4–§5, parsed and validated in one place. A text frame is one JSON object
 * `{type, request_id?, timestamp?, payload, trace_context?}`; a frame is either a known client frame, a frame
 * of a type this version does not know (logged and ignored, protocol §4), or invalid with the AppError to
 * answer (`INVALID_MESSAGE`, `MESSAGE_TOO_LARGE`, `INVALID_CONTENT_TYPE`, each with `details`).
 */
export type ClientFrame =
  | {
      readonly type: "send_message";
      readonly requestId: string;
      readonly chatId: ChatId;
      readonly clientMessageId: string;
      readonly content: string;
      readonly contentType: ContentType;
      /** The frame's valid `trace_context` as W3C `traceparent` (an invalid one is ignored, protocol §4 MVP-opt). */
      readonly traceparent?: string;
    }
  | { readonly type: "ack"; readonly chatId: ChatId; readonly lastAckedSequence: number }
  | {
      readonly type: "sync_request";
      readonly requestId: string;
      readonly chatId: ChatId;
      readonly lastAckedSequence: number;
      readonly limit: number | undefined;
    }
  | { readonly type: "heartbeat"; readonly requestId: string | undefined }
  | { readonly type: "typing_start" | "typing_stop"; readonly chatId: ChatId };

export type ClientFrameType = ClientFrame["type"];

export type ParsedFrame =
  | { readonly kind: "frame"; readonly frame: ClientFrame }
  | { readonly kind: "unknown"; readonly type: string }
  | { readonly kind: "invalid"; readonly error: AppError; readonly requestId: string | undefined };

export interface FrameLimits {
  readonly maxFrameBytes: number;
  readonly maxContentBytes: number;
}

/** request_id: UUIDv4 or ULID, at most 36 characters (protocol §2); other short printable ids are tolerated. */
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,36}$/;
/** client_message_id: the durability plane's own rule (UUIDv4 in practice), so both planes agree. */
const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,36}$/;

class FrameError extends Error {
  constructor(readonly appError: AppError) {
    super(appError.message);
  }
}

const invalid = (field: string, message: string, extra: Record<string, unknown> = {}): FrameError =>
  new FrameError(new AppError("INVALID_MESSAGE", message, { details: { field, ...extra } }));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Parses one WebSocket message. `isBinary` frames are refused: the protocol is JSON text frames only. */
export function parseFrame(data: Buffer | string, isBinary: boolean, limits: FrameLimits): ParsedFrame {
  const bytes = typeof data === "string" ? Buffer.byteLength(data, "utf8") : data.byteLength;
  if (bytes > limits.maxFrameBytes) {
    return invalidFrame(
      invalid("frame", `frame is ${bytes} bytes; the limit is ${limits.maxFrameBytes}`, {
        max_frame_bytes: limits.maxFrameBytes,
        received_bytes: bytes,
      }),
      undefined,
    );
  }
  if (isBinary) return invalidFrame(invalid("frame", "binary frames are not supported; send JSON text"));
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  } catch {
    return invalidFrame(invalid("frame", "frame is not valid JSON"));
  }
  if (!isObject(value)) return invalidFrame(invalid("frame", "frame must be a JSON object"));
  // The request id is read first so that an error about the rest of the frame can still be correlated.
  const rawRequestId = value.request_id;
  const requestId =
    typeof rawRequestId === "string" && REQUEST_ID.test(rawRequestId) ? rawRequestId : undefined;
  try {
    const type = value.type;
    if (type === undefined) throw invalid("type", "type is required");
    if (typeof type !== "string") throw invalid("type", "type must be a string");
    if (rawRequestId !== undefined && requestId === undefined) {
      throw invalid("request_id", "request_id must be 1-36 characters (a UUIDv4 or ULID)");
    }
    if (value.timestamp !== undefined && typeof value.timestamp !== "string") {
      throw invalid("timestamp", "timestamp must be an ISO-8601 string");
    }
    if (value.trace_context !== undefined && !isObject(value.trace_context)) {
      throw invalid("trace_context", "trace_context must be an object");
    }
    const frame = frameOf(type, requestId, value.payload, limits);
    if (frame === undefined) return { kind: "unknown", type };
    const traceparent = frame.type === "send_message" ? traceparentOfFrame(value.trace_context) : undefined;
    if (frame.type !== "send_message" || traceparent === undefined) return { kind: "frame", frame };
    return { kind: "frame", frame: { ...frame, traceparent } };
  } catch (error) {
    if (error instanceof FrameError) return invalidFrame(error, requestId);
    throw error;
  }
}

function invalidFrame(error: FrameError, requestId?: string): ParsedFrame {
  return { kind: "invalid", error: error.appError, requestId };
}

function frameOf(
  type: string,
  requestId: string | undefined,
  rawPayload: unknown,
  limits: FrameLimits,
): ClientFrame | undefined {
  const known =
    type === "send_message" ||
    type === "ack" ||
    type === "sync_request" ||
    type === "heartbeat" ||
    type === "typing_start" ||
    type === "typing_stop";
  if (!known) return undefined;
  if (rawPayload === undefined) throw invalid("payload", "payload is required (it may be {})");
  if (!isObject(rawPayload)) throw invalid("payload", "payload must be an object");
  const payload = rawPayload;
  switch (type) {
    case "send_message": {
      const required = requiredRequestId(requestId);
      const clientMessageId = payload.client_message_id;
      if (typeof clientMessageId !== "string" || !CLIENT_MESSAGE_ID.test(clientMessageId)) {
        throw invalid("client_message_id", "client_message_id must be a UUIDv4 (at most 36 characters)");
      }
      const chatId = chatIdOf(payload.chat_id);
      const contentType = contentTypeOf(payload.content_type);
      const content = contentOf(payload.content, limits.maxContentBytes);
      return { type, requestId: required, chatId, clientMessageId, content, contentType };
    }
    case "ack":
      return {
        type,
        chatId: chatIdOf(payload.chat_id),
        lastAckedSequence: sequenceOf(payload.last_acked_sequence, "last_acked_sequence"),
      };
    case "sync_request": {
      const required = requiredRequestId(requestId);
      const chatId = chatIdOf(payload.chat_id);
      const lastAckedSequence = sequenceOf(payload.last_acked_sequence, "last_acked_sequence");
      const limit = payload.limit === undefined ? undefined : limitOf(payload.limit);
      return { type, requestId: required, chatId, lastAckedSequence, limit };
    }
    case "heartbeat":
      return { type, requestId };
    case "typing_start":
    case "typing_stop":
      return { type, chatId: chatIdOf(payload.chat_id) };
  }
}

function requiredRequestId(requestId: string | undefined): string {
  if (requestId === undefined) throw invalid("request_id", "request_id is required on this frame");
  return requestId;
}

function chatIdOf(value: unknown): ChatId {
  if (typeof value !== "string" || !isChatId(value)) {
    throw invalid("chat_id", "chat_id must be a chat id (chat_ followed by a ULID)");
  }
  return value;
}

function sequenceOf(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_SEQUENCE) {
    throw invalid(field, `${field} must be an integer from 0 to 2^53-1`);
  }
  return value;
}

function limitOf(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_SEQUENCE) {
    throw invalid("limit", "limit must be a non-negative integer");
  }
  return value;
}

function contentTypeOf(value: unknown): ContentType {
  if (value === undefined) return "text/plain";
  if (typeof value !== "string") throw invalid("content_type", "content_type must be a string");
  const known = CONTENT_TYPES.find((type) => type === value);
  if (known === undefined) {
    throw new FrameError(
      new AppError("INVALID_CONTENT_TYPE", `content_type must be one of ${CONTENT_TYPES.join(", ")}`, {
        details: { field: "content_type", supported: [...CONTENT_TYPES] },
      }),
    );
  }
  return known;
}

function contentOf(value: unknown, maxBytes: number): string {
  if (typeof value !== "string") throw invalid("content", "content must be a string");
  // Bytes, not UTF-16 units: "é" is 2 bytes, an emoji 4 (protocol §5).
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes === 0) throw invalid("content", "content must not be empty");
  if (bytes > maxBytes) {
    throw new FrameError(
      new AppError("MESSAGE_TOO_LARGE", `content is ${bytes} bytes; the limit is ${maxBytes}`, {
        details: { field: "content", max_bytes: maxBytes, received_bytes: bytes },
      }),
    );
  }
  return value;
}
