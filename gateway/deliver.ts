import { isSpanContextValid, type SpanContext, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import type { Clock } from "../runtime/clock.js";
import { AppError } from "../runtime/errors.js";
import type {
  CloseConnectionsRequest,
  DeliverCall,
  DeliverResult,
  Delivery,
  EphemeralPush,
  EphemeralResult,
  GatewayApi,
} from "../runtime/gateway-api.js";
import type { UserId } from "../runtime/ids.js";
import { toWireMessage } from "../runtime/message-wire.js";
import type { GatewayRecorder } from "../runtime/metrics/recorders.js";
import type { StoredMessage } from "../runtime/ports/message-store.js";
import { contextOf, type FrameTraceContext } from "../runtime/tracing/propagation.js";
import { withinSpan } from "../runtime/tracing/span-outcome.js";
import { NOOP_TRACER } from "../runtime/tracing/tracing.js";
import type { Connection } from "./connection.js";
import { encodeFrame, isClosingReason } from "./server-frames.js";

export interface DelivererOptions {
  readonly clock: Pick<Clock, "now">;
  /** This gateway's connections of a user (established or not). */
  readonly connectionsOf: (userId: UserId) => Iterable<Connection> | undefined;
  /** One `gateway.receive_delivery` span per Deliver call; default: none. */
  readonly tracer?: Tracer;
  /** A `session_revoked` close names a session whose tokens this gateway must refuse from now on. */
  readonly onSessionRevoked?: (sessionId: string) => void;
  /** Counts ephemeral frames sent and dropped; absent: not counted. */
  readonly metrics?: Pick<GatewayRecorder, "ephemeralPushed">;
}

interface Encoded {
  readonly frame: string;
  readonly bytes: number;
  readonly key: string;
}

/**
 * The GatewayApi of one gateway: pushes to the connections it holds. A message is encoded once per call
 * however many connections receive it. Pushes are never retried here (D7): what a slow connection cannot
 * take is counted as dropped and its client heals by sync.
 */
export function createDeliverer(options: DelivererOptions): GatewayApi {
  const tracer = options.tracer ?? NOOP_TRACER;

  const pushAll = (deliveries: readonly Delivery[], callSpan: SpanContext): DeliverResult => {
    let delivered = 0;
    let noConnection = 0;
    let dropped = 0;
    const encoded = new Map<StoredMessage, Encoded>();
    const now = options.clock.now();
    for (const delivery of deliveries) {
      const connections = options.connectionsOf(delivery.userId);
      let any = false;
      for (const connection of connections ?? []) {
        if (connection.id === delivery.excludeConnectionId) {
          any = true;
          continue;
        }
        let push = encoded.get(delivery.message);
        if (push === undefined) {
          const traceContext = frameTraceContext(delivery, callSpan);
          const frame = encodeFrame(
            {
              type: "message",
              payload: toWireMessage(delivery.message),
              ...(traceContext === undefined ? {} : { trace_context: traceContext }),
            },
            now,
          );
          push = {
            frame,
            bytes: Buffer.byteLength(frame, "utf8"),
            key: `${delivery.message.chatId}:${delivery.message.sequence}`,
          };
          encoded.set(delivery.message, push);
        }
        any = true;
        const outcome = connection.push(push.frame, push.bytes, push.key);
        if (outcome === "dropped") dropped++;
        else delivered++;
      }
      if (!any) noConnection++;
    }
    return { delivered, noConnection, dropped };
  };

  return {
    deliver(deliveries: readonly Delivery[], call: DeliverCall = {}): Promise<DeliverResult> {
      const span = tracer.startSpan(
        "gateway.receive_delivery",
        { kind: SpanKind.SERVER, attributes: { delivery_count: deliveries.length } },
        contextOf(call.traceparent),
      );
      return withinSpan(span, async () => {
        const result = pushAll(deliveries, span.spanContext());
        span.setAttributes({
          delivered: result.delivered,
          no_connection: result.noConnection,
          dropped: result.dropped,
        });
        return result;
      });
    },

    async pushEphemeral(pushes: readonly EphemeralPush[]): Promise<EphemeralResult> {
      let delivered = 0;
      let noConnection = 0;
      let dropped = 0;
      const now = options.clock.now();
      for (const push of pushes) {
        const frame = encodeFrame(push.frame, now);
        const bytes = Buffer.byteLength(frame, "utf8");
        let sent = 0;
        let refused = 0;
        for (const userId of push.userIds) {
          let any = false;
          for (const connection of options.connectionsOf(userId) ?? []) {
            if (!connection.isOpen) continue;
            any = true;
            if (connection.pushEphemeral(frame, bytes)) sent++;
            else refused++;
          }
          if (!any) noConnection++;
        }
        options.metrics?.ephemeralPushed(push.frame.type, "delivered", sent);
        options.metrics?.ephemeralPushed(push.frame.type, "dropped", refused);
        delivered += sent;
        dropped += refused;
      }
      return { delivered, noConnection, dropped };
    },

    async closeConnections(request: CloseConnectionsRequest): Promise<number> {
      const reason = request.reason;
      if (!isClosingReason(reason)) {
        throw new AppError("INVALID_MESSAGE", `unknown connection_closing reason "${reason}"`, {
          details: { field: "reason" },
        });
      }
      if (reason === "session_revoked" && request.sessionId !== undefined)
        options.onSessionRevoked?.(request.sessionId);
      let closed = 0;
      for (const connection of [...(options.connectionsOf(request.userId) ?? [])]) {
        if (!connection.isOpen) continue;
        if (request.sessionId !== undefined && connection.principal?.sessionId !== request.sessionId)
          continue;
        if (request.connectionId !== undefined && connection.id !== request.connectionId) continue;
        connection.close(reason);
        closed++;
      }
      return closed;
    },
  };
}

/**
 * The `trace_context` of a pushed message: its own trace, with the span id of this call's span when the call
 * continues that trace (the common case: one message per call), else of the message's fanout span.
 */
function frameTraceContext(delivery: Delivery, callSpan: SpanContext): FrameTraceContext | undefined {
  const own = trace.getSpanContext(contextOf(delivery.traceparent));
  if (own === undefined) return undefined;
  const spanId =
    isSpanContextValid(callSpan) && callSpan.traceId === own.traceId ? callSpan.spanId : own.spanId;
  return { trace_id: own.traceId, span_id: spanId };
}
