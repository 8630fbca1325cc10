import * as grpc from "@grpc/grpc-js";
import type { CloseConnectionsResponse__Output } from "../../proto/generated/messaging/v1/CloseConnectionsResponse.js";
import type { DeliverResponse__Output } from "../../proto/generated/messaging/v1/DeliverResponse.js";
import type { GatewayServiceClient } from "../../proto/generated/messaging/v1/GatewayService.js";
import type { PushEphemeralResponse__Output } from "../../proto/generated/messaging/v1/PushEphemeralResponse.js";
import { messagingProto } from "../../proto/load.js";
import type {
  CloseConnectionsRequest,
  DeliverCall,
  DeliverResult,
  Delivery,
  EphemeralPush,
  EphemeralResult,
  GatewayApi,
} from "../gateway-api.js";
import { deliveryTraceMetadata } from "./delivery-trace.js";
import { unaryCall } from "./unary-call.js";

export interface GatewayGrpcClientOptions {
  /** `host:port` of one gateway's gRPC server. */
  readonly address: string;
  /**
   * Budget of each call. Fanout never waits long on a gateway (ADR-009: pushes are not retried, sync heals),
   * so the default is short: 2000 ms.
   */
  readonly deadlineMs?: number;
  /**
   * Budget of a PushEphemeral call: shorter still, since a typing indicator that comes late is worth nothing.
   * Default 1000 ms.
   */
  readonly ephemeralDeadlineMs?: number;
  /** The deployment's internal token (INTERNAL_GRPC_TOKEN), sent with every call; absent = none (dev). */
  readonly internalToken?: string;
}

const DEFAULT_GATEWAY_DEADLINE_MS = 2000;
const DEFAULT_EPHEMERAL_DEADLINE_MS = 1000;

/** GatewayApi over gRPC, to one gateway: the remote twin of the in-process gateway. Failures are AppErrors. */
export class GatewayGrpcClient implements GatewayApi {
  private readonly client: GatewayServiceClient;
  private readonly deadlineMs: number;
  private readonly ephemeralDeadlineMs: number;
  private readonly internalToken: string | undefined;
  private closed = false;

  constructor(options: GatewayGrpcClientOptions) {
    const { GatewayService } = messagingProto().messaging.v1;
    this.client = new GatewayService(options.address, grpc.credentials.createInsecure());
    this.deadlineMs = options.deadlineMs ?? DEFAULT_GATEWAY_DEADLINE_MS;
    this.ephemeralDeadlineMs = options.ephemeralDeadlineMs ?? DEFAULT_EPHEMERAL_DEADLINE_MS;
    this.internalToken = options.internalToken;
  }

  async deliver(deliveries: readonly Delivery[], call: DeliverCall = {}): Promise<DeliverResult> {
    const metadata = deliveryTraceMetadata(deliveries);
    const response = await this.call<DeliverResponse__Output>(
      call.traceparent,
      metadata,
      (meta, options, callback) =>
        this.client.Deliver(
          {
            deliveries: deliveries.map((delivery) => ({
              user_id: delivery.userId,
              exclude_connection_id: delivery.excludeConnectionId ?? "",
              message: {
                message_id: delivery.message.messageId,
                chat_id: delivery.message.chatId,
                sender_id: delivery.message.senderId,
                client_message_id: delivery.message.clientMessageId,
                sequence: delivery.message.sequence,
                content_type: delivery.message.contentType,
                content: delivery.message.content,
                created_at: delivery.message.createdAt,
              },
            })),
          },
          meta,
          options,
          callback,
        ),
    );
    return { delivered: response.delivered, noConnection: response.no_connection, dropped: response.dropped };
  }

  async closeConnections(request: CloseConnectionsRequest): Promise<number> {
    const response = await this.call<CloseConnectionsResponse__Output>(
      undefined,
      undefined,
      (meta, options, callback) =>
        this.client.CloseConnections(
          {
            user_id: request.userId,
            session_id: request.sessionId ?? "",
            reason: request.reason,
            connection_id: request.connectionId ?? "",
          },
          meta,
          options,
          callback,
        ),
    );
    return response.closed;
  }

  async pushEphemeral(pushes: readonly EphemeralPush[]): Promise<EphemeralResult> {
    const response = await this.call<PushEphemeralResponse__Output>(
      undefined,
      undefined,
      (meta, options, callback) =>
        this.client.PushEphemeral(
          {
            pushes: pushes.map((push) => ({
              user_ids: [...push.userIds],
              frame: { typing_indicator: push.frame.payload },
            })),
          },
          meta,
          options,
          callback,
        ),
      this.ephemeralDeadlineMs,
    );
    return { delivered: response.delivered, noConnection: response.no_connection, dropped: response.dropped };
  }

  /** Closes the channel; calls made afterwards fail with SERVICE_UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.client.close();
  }

  private call<Response>(
    traceparent: string | undefined,
    metadata: grpc.Metadata | undefined,
    invoke: (
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: grpc.requestCallback<Response>,
    ) => void,
    deadlineMs = this.deadlineMs,
  ): Promise<Response> {
    return unaryCall(
      {
        peer: "the gateway",
        closed: this.closed,
        deadlineMs,
        traceparent,
        internalToken: this.internalToken,
        ...(metadata === undefined ? {} : { metadata }),
      },
      invoke,
    );
  }
}
