import type * as grpc from "@grpc/grpc-js";
import type { AckRequest__Output } from "../../proto/generated/messaging/v1/AckRequest.js";
import type { AckResponse } from "../../proto/generated/messaging/v1/AckResponse.js";
import type { IngestServiceHandlers } from "../../proto/generated/messaging/v1/IngestService.js";
import type { PersistMessageRequest__Output } from "../../proto/generated/messaging/v1/PersistMessageRequest.js";
import type { PersistMessageResponse } from "../../proto/generated/messaging/v1/PersistMessageResponse.js";
import type { SyncMessagesRequest__Output } from "../../proto/generated/messaging/v1/SyncMessagesRequest.js";
import type { SyncMessagesResponse } from "../../proto/generated/messaging/v1/SyncMessagesResponse.js";
import { messagingProto } from "../../proto/load.js";
import { AppError } from "../errors.js";
import { type ChatId, isConnectionId, type UserId } from "../ids.js";
import type {
  AckRequest,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../ingest-api.js";
import type { Logger } from "../logger.js";
import { CONTENT_TYPES, type ContentType } from "../ports/message-store.js";
import { toProtoMessage } from "./message-codec.js";
import { type CallContext, unaryHandler } from "./unary-handler.js";

export interface IngestServerOptions {
  /** Receives failures whose cause stays on this side of the wire (non-public errors); absent = not logged. */
  readonly logger?: Pick<Logger, "error">;
}

/**
 * Serves `messaging.v1.IngestService` from an IngestApi. This edge only translates: it checks what the wire
 * form cannot express (an empty id, a 64-bit value beyond 2^53-1, an unknown content type) and leaves every
 * rule of the durability plane to the api.
 *
 * A call whose client gave up (deadline, cancel) still runs to completion: a persist cannot be taken back
 * half-way, and the client's retry with the same client_message_id is deduplicated (D2).
 */
export function addIngestService(
  server: grpc.Server,
  api: IngestApi,
  options: IngestServerOptions = {},
): void {
  const handle = { service: "ingest", quietCodes: ["NOT_OWNER"], ...options };
  const handlers: IngestServiceHandlers = {
    PersistMessage: unaryHandler(
      "PersistMessage",
      handle,
      async (request: PersistMessageRequest__Output, context) =>
        toPersistResponse(await api.persist(toPersistRequest(request, context))),
    ),
    SyncMessages: unaryHandler("SyncMessages", handle, async (request: SyncMessagesRequest__Output) =>
      toSyncResponse(await api.sync(toSyncRequest(request))),
    ),
    Ack: unaryHandler("Ack", handle, async (request: AckRequest__Output): Promise<AckResponse> => {
      const result = await api.ack(toAckRequest(request));
      return { last_acked_sequence: result.lastAckedSequence };
    }),
  };
  server.addService(messagingProto().messaging.v1.IngestService.service, handlers);
}

function toPersistRequest(request: PersistMessageRequest__Output, context: CallContext): PersistRequest {
  return {
    chatId: idField(request.chat_id, "chat_id") as ChatId,
    senderId: idField(request.sender_id, "sender_id") as UserId,
    clientMessageId: request.client_message_id,
    content: request.content,
    contentType: contentTypeField(request.content_type),
    // proto3 cannot tell an absent string from an empty one; empty means "no trace".
    ...(request.trace_id === "" ? {} : { traceId: request.trace_id }),
    // Checked where a span continues it (a malformed one starts a new trace there).
    ...(context.traceparent === undefined ? {} : { traceparent: context.traceparent }),
    // Only a well-formed connection id is passed on; it merely spares one push, so anything else is dropped.
    ...(isConnectionId(request.sender_connection_id)
      ? { senderConnectionId: request.sender_connection_id }
      : {}),
  };
}

function toSyncRequest(request: SyncMessagesRequest__Output): SyncRequest {
  return {
    chatId: idField(request.chat_id, "chat_id") as ChatId,
    userId: idField(request.user_id, "user_id") as UserId,
    afterSequence: safeIntegerField(request.after_sequence, "after_sequence"),
    // 0 is proto3's "absent": the api applies its default page size.
    ...(request.limit === 0 ? {} : { limit: request.limit }),
  };
}

function toAckRequest(request: AckRequest__Output): AckRequest {
  return {
    chatId: idField(request.chat_id, "chat_id") as ChatId,
    userId: idField(request.user_id, "user_id") as UserId,
    sequence: safeIntegerField(request.sequence, "sequence"),
  };
}

function toPersistResponse(result: PersistResult): PersistMessageResponse {
  return {
    message_id: result.messageId,
    sequence: result.sequence,
    created_at: result.createdAt,
    deduplicated: result.deduplicated,
  };
}

function toSyncResponse(result: SyncResult): SyncMessagesResponse {
  return {
    messages: result.messages.map(toProtoMessage),
    has_more: result.hasMore,
    next_sequence: result.nextSequence,
    last_sequence: result.lastSequence,
  };
}

const invalid = (field: string, reason: string): AppError =>
  new AppError("INVALID_MESSAGE", `${field} ${reason}`, { details: { field } });

function idField(value: string, field: string): string {
  if (value === "") throw invalid(field, "is required");
  return value;
}

/** uint64 fields are read as JS numbers; past 2^53-1 they have already lost digits (D13 caps them there). */
function safeIntegerField(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw invalid(field, "must be at most 2^53-1");
  return value;
}

function contentTypeField(value: string): ContentType {
  const known = CONTENT_TYPES.find((type) => type === value);
  if (known === undefined) {
    throw new AppError("INVALID_CONTENT_TYPE", `content_type must be one of ${CONTENT_TYPES.join(", ")}`, {
      details: { field: "content_type", allowed: [...CONTENT_TYPES] },
    });
  }
  return known;
}
