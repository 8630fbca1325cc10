import type { ConnectionId, UserId } from "./ids.js";
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

export interface GatewayApi {
  /** One call carries every delivery for this gateway (batched). Never retried by callers: sync heals. */
  deliver(deliveries: readonly Delivery[], call?: DeliverCall): Promise<DeliverResult>;
  /** Closes the matching connections with a `connection_closing` frame; returns how many were closed. */
  closeConnections(request: CloseConnectionsRequest): Promise<number>;
}
