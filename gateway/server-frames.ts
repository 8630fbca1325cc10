import { isoTime } from "../runtime/clock.js";
import {
  type AppError,
  type ErrorDetails,
  isProtocolErrorCode,
  type ProtocolErrorCode,
  publicView,
} from "../runtime/errors.js";
import type { EphemeralFrame } from "../runtime/gateway-api.js";
import type { WireMessage, WireSyncMessage } from "../runtime/message-wire.js";
import type { FrameTraceContext } from "../runtime/tracing/propagation.js";

/**
 * Server frames of spec/protocol.md §5. Every frame carries a server `timestamp`; replies echo the request's
 * `request_id`; pushes (`message`, `connection_closing`, `connection_established`, unsolicited `error`s and
 * the ephemeral frames of runtime/gateway-api.ts, e.g. `typing_indicator`) never carry one.
 */
export type ServerFrame =
  | EphemeralFrame
  | {
      readonly type: "connection_established";
      readonly payload: {
        readonly connection_id: string;
        readonly user_id: string;
        readonly device_id: string;
        readonly server_time: string;
        readonly heartbeat_interval_ms: number;
        readonly protocol_version: number;
      };
    }
  | {
      readonly type: "send_message_ack";
      readonly request_id: string;
      readonly payload: {
        readonly client_message_id: string;
        readonly message_id: string;
        readonly chat_id: string;
        readonly sequence: number;
        readonly created_at: string;
      };
    }
  | {
      readonly type: "message";
      readonly payload: WireMessage;
      /** The message's trace (protocol §4 `trace_context`, MVP-opt), when it was traced. */
      readonly trace_context?: FrameTraceContext;
    }
  | {
      readonly type: "sync_response";
      readonly request_id: string;
      readonly payload: {
        readonly chat_id: string;
        readonly messages: readonly WireSyncMessage[];
        readonly has_more: boolean;
        readonly next_sequence?: number;
      };
    }
  | {
      readonly type: "heartbeat_ack";
      readonly request_id?: string;
      readonly payload: { readonly server_time: string };
    }
  | {
      readonly type: "error";
      readonly request_id?: string;
      readonly payload: {
        readonly code: ProtocolErrorCode;
        readonly message: string;
        readonly details?: ErrorDetails;
      };
    }
  | {
      readonly type: "connection_closing";
      readonly payload: {
        readonly reason: ClosingReason;
        readonly message: string;
        readonly reconnect_delay_ms: number;
        readonly reconnect_allowed: true;
      };
    };

export type ServerFrameType = ServerFrame["type"];

/** `connection_closing` reasons (protocol §7) and the WebSocket close code that follows each. */
export const CLOSING_REASONS = {
  server_shutdown: { code: 1001, message: "the server is shutting down" },
  idle_timeout: { code: 1001, message: "no heartbeat within two heartbeat intervals" },
  rate_limited: { code: 1013, message: "too many requests over limit" },
  protocol_error: { code: 1008, message: "too many invalid frames" },
  duplicate_connection: { code: 1001, message: "the same device connected again" },
  token_expired: { code: 1008, message: "the access token expired; refresh it and reconnect" },
  // spec/planes-ops-security-testing.md "Revoke all sessions": a late auth failure, so 1008 (protocol §3).
  // Reconnecting with the same token is refused with 401 `token_revoked`: the client must sign in again.
  session_revoked: { code: 1008, message: "the session was revoked; sign in again" },
  slow_consumer: { code: 1008, message: "the connection could not keep up with its messages" },
} as const;
export type ClosingReason = keyof typeof CLOSING_REASONS;

export const isClosingReason = (value: string): value is ClosingReason =>
  Object.hasOwn(CLOSING_REASONS, value);

/** The JSON text of a frame, with the server's timestamp. */
export function encodeFrame(frame: ServerFrame, now: number): string {
  const { type, payload } = frame;
  const requestId = "request_id" in frame ? frame.request_id : undefined;
  const traceContext = "trace_context" in frame ? frame.trace_context : undefined;
  return JSON.stringify(
    requestId === undefined
      ? {
          type,
          timestamp: isoTime(now),
          payload,
          ...(traceContext === undefined ? {} : { trace_context: traceContext }),
        }
      : { type, request_id: requestId, timestamp: isoTime(now), payload },
  );
}

/** What a WebSocket client may see of an error: only the protocol's codes (§6: "No other codes may be sent"). */
export function wsErrorView(error: AppError): Extract<ServerFrame, { type: "error" }>["payload"] {
  const view = publicView(error);
  if (isProtocolErrorCode(view.code)) return { ...view, code: view.code };
  return { code: "INTERNAL_ERROR", message: "internal error" };
}
