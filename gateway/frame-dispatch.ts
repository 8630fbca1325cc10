import type { CloseReason } from "../actors/connection/connection.machine.js";
import type { Clock } from "../runtime/clock.js";
import { isoTime } from "../runtime/clock.js";
import { type AppError, toAppError } from "../runtime/errors.js";
import type { ChatId, ConnectionId } from "../runtime/ids.js";
import { type IngestApi, SYNC_MAX_LIMIT } from "../runtime/ingest-api.js";
import type { Logger } from "../runtime/logger.js";
import { toWireSyncMessage } from "../runtime/message-wire.js";
import type { GatewayRecorder, RateLimitedEndpoint } from "../runtime/metrics/recorders.js";
import type { ConnectionLimiter } from "./connection-limiter.js";
import { type ClientFrame, parseFrame } from "./frames.js";
import type { Principal } from "./handshake.js";
import type { GatewayLimits } from "./limits.js";
import type { ServerFrame } from "./server-frames.js";
import type { TypingFrames } from "./typing-relay.js";

/** What the dispatch uses of the options every connection of a gateway shares. */
export interface DispatchOptions {
  readonly clock: Clock;
  readonly limits: GatewayLimits;
  readonly ingest: IngestApi;
  readonly logger: Logger;
  readonly metrics: GatewayRecorder;
  /** Typing indicators (typing-relay.ts); absent, typing frames are dropped silently (protocol: MVP-opt). */
  readonly typing?: TypingFrames;
}

/** The connection a frame arrived on, as the dispatch sees it. */
export interface FrameContext {
  readonly id: ConnectionId;
  readonly options: DispatchOptions;
  /** The connection's limits, made on first use. */
  limiter(): ConnectionLimiter;
  /** Restarts the machine's idle timer. */
  heartbeat(): void;
  reply(frame: ServerFrame): void;
  sendError(error: AppError, requestId: string | undefined): void;
  close(reason: CloseReason): void;
}

/**
 * How an established connection answers what its client sends (protocol §5): each frame parsed, limited
 * (connection-limiter.ts decides) and either answered at once or forwarded to the durability plane, whose
 * answer comes back as the reply. Free functions over a FrameContext: nothing per connection.
 */
export function receiveFrame(
  connection: FrameContext,
  principal: Principal,
  data: Buffer,
  isBinary: boolean,
): void {
  const { limits, metrics, logger } = connection.options;
  const parsed = parseFrame(data, isBinary, limits);
  switch (parsed.kind) {
    case "unknown":
      metrics.frameReceived("unknown");
      logger.debug(
        { connection_id: connection.id, type: parsed.type.slice(0, 64) },
        "unknown frame type ignored",
      );
      return;
    case "invalid":
      metrics.frameReceived("invalid");
      connection.sendError(parsed.error, parsed.requestId);
      if (connection.limiter().invalidFrame()) connection.close("protocol_error");
      return;
    case "frame":
      dispatchFrame(connection, principal, parsed.frame);
      return;
  }
}

function dispatchFrame(connection: FrameContext, principal: Principal, frame: ClientFrame): void {
  connection.options.metrics.frameReceived(frame.type);
  switch (frame.type) {
    case "heartbeat":
      connection.heartbeat();
      connection.reply({
        type: "heartbeat_ack",
        ...(frame.requestId === undefined ? {} : { request_id: frame.requestId }),
        payload: { server_time: isoTime(connection.options.clock.now()) },
      });
      return;
    case "send_message":
      sendMessage(connection, principal, frame);
      return;
    case "sync_request":
      syncRequest(connection, principal, frame);
      return;
    case "ack":
      forwardAck(connection, principal, frame);
      return;
    case "typing_start":
      typingStart(connection, principal, frame.chatId);
      return;
    case "typing_stop":
      connection.options.typing?.stop(connection, principal.userId, frame.chatId);
      return;
  }
}

/** Over 1/s per chat (protocol §11) a start is dropped silently: never answered, never closing. */
function typingStart(connection: FrameContext, principal: Principal, chatId: ChatId): void {
  const { typing, metrics } = connection.options;
  if (typing === undefined) return;
  if (!connection.limiter().takeTypingStart(chatId)) {
    metrics.typingDropped("rate_limited");
    return;
  }
  typing.start(connection, principal.userId, chatId);
}

type FrameOf<T extends ClientFrame["type"]> = Extract<ClientFrame, { type: T }>;

function sendMessage(connection: FrameContext, principal: Principal, frame: FrameOf<"send_message">): void {
  const { ingest, clock, metrics } = connection.options;
  const waitMs = connection.limiter().sendWaitMs(frame.chatId);
  if (!admit(connection, frame.requestId, waitMs, "send_message")) return;
  const receivedAt = clock.now();
  const persisted = ingest.persist({
    chatId: frame.chatId,
    senderId: principal.userId,
    clientMessageId: frame.clientMessageId,
    content: frame.content,
    contentType: frame.contentType,
    // Fanout spares this connection the push of its own message (it gets the ack).
    senderConnectionId: connection.id,
    ...(frame.traceparent === undefined ? {} : { traceparent: frame.traceparent }),
  });
  track(connection, frame.requestId, persisted, (result) => {
    metrics.sendAcknowledged((clock.now() - receivedAt) / 1000);
    return {
      type: "send_message_ack",
      request_id: frame.requestId,
      payload: {
        client_message_id: frame.clientMessageId,
        message_id: result.messageId,
        chat_id: frame.chatId,
        sequence: result.sequence,
        created_at: isoTime(result.createdAt),
      },
    };
  });
}

function syncRequest(connection: FrameContext, principal: Principal, frame: FrameOf<"sync_request">): void {
  if (!admit(connection, frame.requestId, connection.limiter().syncWaitMs(), "sync_request")) return;
  const limit =
    frame.limit === undefined || frame.limit === 0 ? undefined : Math.min(frame.limit, SYNC_MAX_LIMIT);
  const page = connection.options.ingest.sync({
    chatId: frame.chatId,
    userId: principal.userId,
    afterSequence: frame.lastAckedSequence,
    ...(limit === undefined ? {} : { limit }),
  });
  track(connection, frame.requestId, page, (result) => ({
    type: "sync_response",
    request_id: frame.requestId,
    payload: {
      chat_id: frame.chatId,
      messages: result.messages.map(toWireSyncMessage),
      has_more: result.hasMore,
      ...(result.hasMore ? { next_sequence: result.nextSequence } : {}),
    },
  }));
}

/**
 * One-way (protocol §9): never answered, 0 acknowledges nothing. An ack over its bucket is dropped without
 * an answer (the client acks cumulatively again later, and delivery state only grows) and counts toward the
 * `rate_limited` close.
 */
function forwardAck(connection: FrameContext, principal: Principal, frame: FrameOf<"ack">): void {
  if (frame.lastAckedSequence === 0) return;
  const { ingest, metrics, logger } = connection.options;
  const limiter = connection.limiter();
  if (!limiter.takeAck()) {
    metrics.rateLimited("ack", "rate");
    if (limiter.refused()) connection.close("rate_limited");
    return;
  }
  ingest.ack({ chatId: frame.chatId, userId: principal.userId, sequence: frame.lastAckedSequence }).then(
    () => metrics.ackForwarded("stored"),
    (error: unknown) => {
      metrics.ackForwarded("failed");
      logger.warn({ err: error, connection_id: connection.id, chat_id: frame.chatId }, "ack not stored");
    },
  );
}

/** Refuses a request over a rate limit or the in-flight bound with RATE_LIMITED; persistent abuse closes. */
function admit(
  connection: FrameContext,
  requestId: string,
  waitMs: number,
  endpoint: RateLimitedEndpoint,
): boolean {
  const limiter = connection.limiter();
  const busy = limiter.atInFlightCap;
  if (waitMs === 0 && !busy) return true;
  connection.options.metrics.rateLimited(endpoint, busy ? "in_flight" : "rate");
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  connection.reply({
    type: "error",
    request_id: requestId,
    payload: {
      code: "RATE_LIMITED",
      message: busy ? "too many requests in flight" : "too many requests",
      details: { retry_after_seconds: retryAfterSeconds },
    },
  });
  if (limiter.refused()) connection.close("rate_limited");
  return false;
}

/** Counts the request as in flight until the durability plane answers, then replies with its answer. */
function track<T>(
  connection: FrameContext,
  requestId: string,
  call: Promise<T>,
  answer: (result: T) => ServerFrame,
): void {
  const limiter = connection.limiter();
  limiter.requestStarted();
  call.then(
    (result) => {
      limiter.requestFinished();
      connection.reply(answer(result));
    },
    (error: unknown) => {
      limiter.requestFinished();
      const appError = toAppError(error);
      if (!appError.public)
        connection.options.logger.error({ err: error, connection_id: connection.id }, "request failed");
      connection.sendError(appError, requestId);
    },
  );
}
