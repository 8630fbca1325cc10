import * as grpc from "@grpc/grpc-js";
import type { AckResponse__Output } from "../../proto/generated/messaging/v1/AckResponse.js";
import type { IngestServiceClient } from "../../proto/generated/messaging/v1/IngestService.js";
import type { PersistMessageResponse__Output } from "../../proto/generated/messaging/v1/PersistMessageResponse.js";
import type { SyncMessagesResponse__Output } from "../../proto/generated/messaging/v1/SyncMessagesResponse.js";
import { messagingProto } from "../../proto/load.js";
import { AppError, type ErrorDetails } from "../errors.js";
import { isSequence, type MessageId, type Sequence } from "../ids.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../ingest-api.js";
import { fromProtoMessage } from "./message-codec.js";
import { unaryCall } from "./unary-call.js";

export interface IngestGrpcClientOptions {
  /** `host:port` of one ingest node. */
  readonly address: string;
  /**
   * Budget of each call, connecting included. A caller waiting on a persist holds a user's send open, so a
   * dead or overloaded node must turn into SERVICE_UNAVAILABLE (retryable) rather than a hang. Default 5000.
   */
  readonly deadlineMs?: number;
  /** The deployment's internal token (INTERNAL_GRPC_TOKEN), sent with every call; absent = none (dev). */
  readonly internalToken?: string;
}

const DEFAULT_INGEST_DEADLINE_MS = 5000;

/**
 * IngestApi over gRPC, to one ingest node: the remote twin of the in-process service, so callers do not
 * know where the chat's sequencer lives. Every failure is an AppError (see `fromGrpcError`); NOT_OWNER comes
 * back with `details.ring_version` for the caller to refresh its ring and retry elsewhere.
 *
 * Answers are checked before they are trusted as branded values: a node running other code must not slip
 * an invalid sequence or content type into the rest of the system.
 */
export class IngestGrpcClient implements IngestApi {
  private readonly client: IngestServiceClient;
  private readonly deadlineMs: number;
  private readonly internalToken: string | undefined;
  private closed = false;

  constructor(options: IngestGrpcClientOptions) {
    const { IngestService } = messagingProto().messaging.v1;
    this.client = new IngestService(options.address, grpc.credentials.createInsecure());
    this.deadlineMs = options.deadlineMs ?? DEFAULT_INGEST_DEADLINE_MS;
    this.internalToken = options.internalToken;
  }

  async persist(request: PersistRequest): Promise<PersistResult> {
    const response = await this.call<PersistMessageResponse__Output>(
      request.traceparent,
      (metadata, callOptions, callback) =>
        this.client.PersistMessage(
          {
            chat_id: request.chatId,
            sender_id: request.senderId,
            client_message_id: request.clientMessageId,
            content_type: request.contentType,
            content: request.content,
            trace_id: request.traceId ?? "",
            sender_connection_id: request.senderConnectionId ?? "",
          },
          metadata,
          callOptions,
          callback,
        ),
    );
    return {
      messageId: nonEmpty(response.message_id, "message_id") as MessageId,
      sequence: sequenceOf(response.sequence, "sequence"),
      createdAt: response.created_at,
      deduplicated: response.deduplicated,
    };
  }

  async sync(request: SyncRequest): Promise<SyncResult> {
    const response = await this.call<SyncMessagesResponse__Output>(
      undefined,
      (metadata, callOptions, callback) =>
        this.client.SyncMessages(
          {
            chat_id: request.chatId,
            user_id: request.userId,
            after_sequence: request.afterSequence,
            limit: request.limit ?? 0,
          },
          metadata,
          callOptions,
          callback,
        ),
    );
    return {
      messages: response.messages.map((message) => fromProtoMessage(message, invalidFromNode)),
      hasMore: response.has_more,
      nextSequence: response.next_sequence,
      lastSequence: response.last_sequence,
    };
  }

  async ack(request: AckRequest): Promise<AckResult> {
    const response = await this.call<AckResponse__Output>(undefined, (metadata, callOptions, callback) =>
      this.client.Ack(
        { chat_id: request.chatId, user_id: request.userId, sequence: request.sequence },
        metadata,
        callOptions,
        callback,
      ),
    );
    return { lastAckedSequence: response.last_acked_sequence };
  }

  /** Closes the channel; calls made afterwards fail with SERVICE_UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.client.close();
  }

  private call<Response>(
    traceparent: string | undefined,
    invoke: (
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: grpc.requestCallback<Response>,
    ) => void,
  ): Promise<Response> {
    return unaryCall(
      {
        peer: "the ingest node",
        closed: this.closed,
        deadlineMs: this.deadlineMs,
        traceparent,
        internalToken: this.internalToken,
      },
      invoke,
    );
  }
}

/** A node answered something this version cannot represent: our fault, not the caller's. */
const malformed = (message: string, details?: ErrorDetails): AppError =>
  new AppError(
    "INTERNAL_ERROR",
    message,
    details === undefined ? { public: false } : { details, public: false },
  );

const invalidFromNode = (field: string, reason: string): AppError =>
  malformed(`the ingest node sent a message whose ${field} ${reason}`, { field });

function nonEmpty(value: string, field: string): string {
  if (value === "") throw malformed(`the ingest node sent an empty ${field}`, { field });
  return value;
}

function sequenceOf(value: number, field: string): Sequence {
  if (!isSequence(value)) throw malformed(`the ingest node sent an invalid ${field}`, { field, value });
  return value;
}
