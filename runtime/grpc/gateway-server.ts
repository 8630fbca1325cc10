import type * as grpc from "@grpc/grpc-js";
import type { CloseConnectionsRequest__Output } from "../../proto/generated/messaging/v1/CloseConnectionsRequest.js";
import type { CloseConnectionsResponse } from "../../proto/generated/messaging/v1/CloseConnectionsResponse.js";
import type { DeliverRequest__Output } from "../../proto/generated/messaging/v1/DeliverRequest.js";
import type { DeliverResponse } from "../../proto/generated/messaging/v1/DeliverResponse.js";
import type { GatewayServiceHandlers } from "../../proto/generated/messaging/v1/GatewayService.js";
import type { Message__Output } from "../../proto/generated/messaging/v1/Message.js";
import { messagingProto } from "../../proto/load.js";
import { AppError, toAppError } from "../errors.js";
import type { Delivery, GatewayApi } from "../gateway-api.js";
import { type ChatId, type ConnectionId, isSequence, type MessageId, type UserId } from "../ids.js";
import type { Logger } from "../logger.js";
import { CONTENT_TYPES, type StoredMessage } from "../ports/message-store.js";
import { toGrpcError } from "./errors.js";

export interface GatewayServiceOptions {
  /** Receives failures whose cause stays on this side of the wire (non-public errors); absent = not logged. */
  readonly logger?: Pick<Logger, "error">;
}

/**
 * Serves `messaging.v1.GatewayService` from a GatewayApi (the gateway of this process). This edge only
 * translates and checks what the wire cannot express; a delivery whose message is unusable fails the whole
 * call with INVALID_MESSAGE (a caller bug, never retried: sync heals).
 */
export function addGatewayService(
  server: grpc.Server,
  api: GatewayApi,
  options: GatewayServiceOptions = {},
): void {
  const handlers: GatewayServiceHandlers = {
    Deliver: unary("Deliver", options, async (request: DeliverRequest__Output): Promise<DeliverResponse> => {
      const result = await api.deliver(request.deliveries.map(toDelivery));
      return { delivered: result.delivered, no_connection: result.noConnection, dropped: result.dropped };
    }),
    CloseConnections: unary(
      "CloseConnections",
      options,
      async (request: CloseConnectionsRequest__Output): Promise<CloseConnectionsResponse> => ({
        closed: await api.closeConnections({
          userId: required(request.user_id, "user_id") as UserId,
          reason: required(request.reason, "reason"),
          ...(request.session_id === "" ? {} : { sessionId: request.session_id }),
          ...(request.connection_id === "" ? {} : { connectionId: request.connection_id as ConnectionId }),
        }),
      }),
    ),
  };
  server.addService(messagingProto().messaging.v1.GatewayService.service, handlers);
}

function unary<Request, Response>(
  method: string,
  options: GatewayServiceOptions,
  handle: (request: Request) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const appError = toAppError(error);
        if (!appError.public) options.logger?.error({ err: appError, method }, "gateway call failed");
        callback(toGrpcError(appError));
      },
    );
  };
}

const invalid = (field: string, reason: string): AppError =>
  new AppError("INVALID_MESSAGE", `${field} ${reason}`, { details: { field } });

function required(value: string, field: string): string {
  if (value === "") throw invalid(field, "is required");
  return value;
}

function toDelivery(delivery: {
  user_id: string;
  message: Message__Output | null;
  exclude_connection_id: string;
}): Delivery {
  if (delivery.message === null) throw invalid("message", "is required");
  return {
    userId: required(delivery.user_id, "user_id") as UserId,
    message: toStoredMessage(delivery.message),
    ...(delivery.exclude_connection_id === ""
      ? {}
      : { excludeConnectionId: delivery.exclude_connection_id as ConnectionId }),
  };
}

export function toStoredMessage(message: Message__Output): StoredMessage {
  if (!isSequence(message.sequence)) throw invalid("message.sequence", "must be an integer in 1..2^53-1");
  const contentType = CONTENT_TYPES.find((type) => type === message.content_type);
  if (contentType === undefined) throw invalid("message.content_type", "is not supported");
  return {
    chatId: required(message.chat_id, "message.chat_id") as ChatId,
    sequence: message.sequence,
    messageId: required(message.message_id, "message.message_id") as MessageId,
    senderId: required(message.sender_id, "message.sender_id") as UserId,
    clientMessageId: message.client_message_id,
    content: message.content,
    contentType,
    createdAt: message.created_at,
  };
}
