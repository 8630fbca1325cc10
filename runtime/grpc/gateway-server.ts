import type * as grpc from "@grpc/grpc-js";
import type { CloseConnectionsRequest__Output } from "../../proto/generated/messaging/v1/CloseConnectionsRequest.js";
import type { CloseConnectionsResponse } from "../../proto/generated/messaging/v1/CloseConnectionsResponse.js";
import type { DeliverRequest__Output } from "../../proto/generated/messaging/v1/DeliverRequest.js";
import type { DeliverResponse } from "../../proto/generated/messaging/v1/DeliverResponse.js";
import type { GatewayServiceHandlers } from "../../proto/generated/messaging/v1/GatewayService.js";
import type { Message__Output } from "../../proto/generated/messaging/v1/Message.js";
import type { PushEphemeralRequest__Output } from "../../proto/generated/messaging/v1/PushEphemeralRequest.js";
import type { PushEphemeralResponse } from "../../proto/generated/messaging/v1/PushEphemeralResponse.js";
import { messagingProto } from "../../proto/load.js";
import { AppError } from "../errors.js";
import type { Delivery, EphemeralPush, GatewayApi } from "../gateway-api.js";
import { type ConnectionId, isChatId, isUserId, type UserId } from "../ids.js";
import type { Logger } from "../logger.js";
import { deliveryTraceparents } from "./delivery-trace.js";
import { fromProtoMessage } from "./message-codec.js";
import { unaryHandler } from "./unary-handler.js";

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
  const handle = { service: "gateway", ...options };
  const handlers: GatewayServiceHandlers = {
    Deliver: unaryHandler(
      "Deliver",
      handle,
      async (request: DeliverRequest__Output, context): Promise<DeliverResponse> => {
        const traces = deliveryTraceparents(context.metadata);
        const result = await api.deliver(
          request.deliveries.map((delivery) => toDelivery(delivery, traces)),
          context.traceparent === undefined ? {} : { traceparent: context.traceparent },
        );
        return { delivered: result.delivered, no_connection: result.noConnection, dropped: result.dropped };
      },
    ),
    CloseConnections: unaryHandler(
      "CloseConnections",
      handle,
      async (request: CloseConnectionsRequest__Output): Promise<CloseConnectionsResponse> => ({
        closed: await api.closeConnections({
          userId: required(request.user_id, "user_id") as UserId,
          reason: required(request.reason, "reason"),
          ...(request.session_id === "" ? {} : { sessionId: request.session_id }),
          ...(request.connection_id === "" ? {} : { connectionId: request.connection_id as ConnectionId }),
        }),
      }),
    ),
    PushEphemeral: unaryHandler(
      "PushEphemeral",
      handle,
      async (request: PushEphemeralRequest__Output): Promise<PushEphemeralResponse> => {
        const result = await api.pushEphemeral(request.pushes.map(toEphemeralPush));
        return { delivered: result.delivered, no_connection: result.noConnection, dropped: result.dropped };
      },
    ),
  };
  server.addService(messagingProto().messaging.v1.GatewayService.service, handlers);
}

const invalid = (field: string, reason: string): AppError =>
  new AppError("INVALID_MESSAGE", `${field} ${reason}`, { details: { field } });

function required(value: string, field: string): string {
  if (value === "") throw invalid(field, "is required");
  return value;
}

function toDelivery(
  delivery: {
    user_id: string;
    message: Message__Output | null;
    exclude_connection_id: string;
  },
  traces: ReadonlyMap<string, string>,
): Delivery {
  if (delivery.message === null) throw invalid("message", "is required");
  const message = fromProtoMessage(delivery.message, invalid);
  const traceparent = traces.get(message.messageId);
  return {
    userId: required(delivery.user_id, "user_id") as UserId,
    message,
    ...(delivery.exclude_connection_id === ""
      ? {}
      : { excludeConnectionId: delivery.exclude_connection_id as ConnectionId }),
    ...(traceparent === undefined ? {} : { traceparent }),
  };
}

/**
 * An ephemeral push as the wire carries it. Every id is checked: these values reach clients' sockets, so a
 * caller's bug must fail the call (INVALID_MESSAGE), not show a client a malformed frame.
 */
function toEphemeralPush(push: PushEphemeralRequest__Output["pushes"][number]): EphemeralPush {
  const userIds = push.user_ids.map((userId) => {
    if (!isUserId(userId)) throw invalid("user_ids", "must be user ids");
    return userId;
  });
  const frame = push.frame;
  switch (frame?.frame) {
    case "typing_indicator": {
      const indicator = frame.typing_indicator;
      if (indicator === null || indicator === undefined) throw invalid("typing_indicator", "is required");
      if (!isChatId(indicator.chat_id)) throw invalid("typing_indicator.chat_id", "must be a chat id");
      if (!isUserId(indicator.user_id)) throw invalid("typing_indicator.user_id", "must be a user id");
      return {
        userIds,
        frame: {
          type: "typing_indicator",
          payload: { chat_id: indicator.chat_id, user_id: indicator.user_id, is_typing: indicator.is_typing },
        },
      };
    }
    case undefined:
      throw invalid("frame", "is required (one kind of ephemeral frame)");
  }
}
