import type { ChatId, ConnectionId, UserId } from "./ids.js";
import type { StoredMessage } from "./ports/message-store.js";

/**
 * The connection plane's service contract (proto `messaging.v1.GatewayService`), called by fanout workers
 * (D7) and chat management (session revocation). In one process the gateway object is called directly; in
 * a cluster through the gRPC client; both implement this interface, so callers do not know which.
 */
export interface Delivery {
  /** Recipient: the gateway pushes to each connection of this user that it holds. */
  readonly userId: UserId;
  readonly message: StoredMessage;
  /** The connection that sent the message had its ack and needs no push. */
  readonly excludeConnectionId?: ConnectionId;
  /**
   * W3C trace context of this message's fanout (spec §3: the trace of the send continues to the recipient's
   * gateway and its `message` frame). Absent = untraced.
   */
  readonly traceparent?: string;
}

/** What a Deliver call carries besides its deliveries. */
export interface DeliverCall {
  /** W3C trace context of the caller's batch span; the gateway's span continues it. */
  readonly traceparent?: string;
}

export interface DeliverResult {
  /** Pushes enqueued to sockets. */
  readonly delivered: number;
  /** Deliveries for users with no connection on this gateway. */
  readonly noConnection: number;
  /** Pushes refused by backpressure (slow consumers); those clients heal by sync. */
  readonly dropped: number;
}

export interface CloseConnectionsRequest {
  readonly userId: UserId;
  /** Only the connections of this session; absent = every connection of the user. */
  readonly sessionId?: string;
  /**
   * A `connection_closing` reason (gateway/server-frames.ts). `session_revoked` (with `sessionId`) also makes
   * the gateway refuse that session's tokens from now on; callers send it to every gateway.
   */
  readonly reason: string;
  /**
   * Only this connection of the user: a gateway evicting a device's older connection held by another gateway
   * (`duplicate_connection`, found through the routing entry). Absent = every matching connection.
   */
  readonly connectionId?: ConnectionId;
}

/**
 * A server frame that is never stored and never on the event log (protocol §5 `typing_indicator`; presence and
 * read receipts will join): it reaches the connections that are open when it is sent, or nobody. One union
 * member per kind, as on the wire (proto `EphemeralFrame`'s oneof).
 */
export type EphemeralFrame = {
  readonly type: "typing_indicator";
  readonly payload: { readonly chat_id: ChatId; readonly user_id: UserId; readonly is_typing: boolean };
};

export type EphemeralFrameType = EphemeralFrame["type"];

/** One ephemeral frame for every connection of some users. */
export interface EphemeralPush {
  readonly userIds: readonly UserId[];
  readonly frame: EphemeralFrame;
}

export interface EphemeralResult {
  /** Frames written to (or queued for) sockets. */
  readonly delivered: number;
  /** Recipients with no connection on this gateway. */
  readonly noConnection: number;
  /** Frames a backed-up connection did not get (ephemeral frames are dropped first, never retried). */
  readonly dropped: number;
}

export interface GatewayApi {
  /** One call carries every delivery for this gateway (batched). Never retried by callers: sync heals. */
  deliver(deliveries: readonly Delivery[], call?: DeliverCall): Promise<DeliverResult>;
  /** Closes the matching connections with a `connection_closing` frame; returns how many were closed. */
  closeConnections(request: CloseConnectionsRequest): Promise<number>;
  /**
   * Ephemeral frames to the connections of this gateway (best effort: never retried, never stored). Kept off
   * the message path: its own call, and a connection's push buffer never grows toward its slow-consumer close
   * because of one.
   */
  pushEphemeral(pushes: readonly EphemeralPush[]): Promise<EphemeralResult>;
}
