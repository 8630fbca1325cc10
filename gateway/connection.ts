import type { WebSocket } from "ws";
import type { CloseReason, ConnectionEvent } from "../actors/connection/connection.machine.js";
import {
  ConnectionDriver,
  type ConnectionEffects,
  type SharedSnapshots,
} from "../actors/connection/connection-driver.js";
import type { Clock } from "../runtime/clock.js";
import { isoTime } from "../runtime/clock.js";
import { type AppError, isProtocolErrorCode, publicView, toAppError } from "../runtime/errors.js";
import type { ConnectionId } from "../runtime/ids.js";
import { type IngestApi, SYNC_MAX_LIMIT } from "../runtime/ingest-api.js";
import type { SteppedActorReporter } from "../runtime/inspector/actor-sources.js";
import type { Logger } from "../runtime/logger.js";
import { toWireSyncMessage } from "../runtime/message-wire.js";
import type { GatewayRecorder, RateLimitedEndpoint } from "../runtime/metrics/recorders.js";
import type { ConnectionEntry } from "../runtime/ports/routing.js";
import { PROTOCOL_VERSION } from "../runtime/protocol-limits.js";
import { type ClientFrame, parseFrame } from "./frames.js";
import type { Principal } from "./handshake.js";
import type { GatewayLimits } from "./limits.js";
import { OutboundBuffer } from "./outbound-buffer.js";
import { CLOSING_REASONS, encodeFrame, type ServerFrame } from "./server-frames.js";
import { TokenBucket, WindowCounter } from "./token-bucket.js";

export interface ConnectionHooks {
  /** The connection is going away: remove its routing entry (it has been told why). */
  readonly onClosing: (connection: Connection) => void;
  /** The connection is gone: forget it. */
  readonly onReleased: (connection: Connection) => void;
}

/** What every connection of one gateway shares (one object, not one per connection). */
export interface ConnectionOptions {
  readonly gatewayId: string;
  readonly clock: Clock;
  readonly limits: GatewayLimits;
  readonly ingest: IngestApi;
  readonly logger: Logger;
  readonly hooks: ConnectionHooks;
  /** The gateway's shared machine snapshots (see ConnectionDriver). */
  readonly snapshots: SharedSnapshots;
  /** What the connection plane records (runtime/metrics). */
  readonly metrics: GatewayRecorder;
  /** Told about every connection's machine steps (the inspector); absent, nothing is reported. */
  readonly inspect?: ConnectionInspector;
}

/** What the inspector learns of each connection's lifecycle machine (keyed by connection id). */
export type ConnectionInspector = SteppedActorReporter;

/** The driver of an inspected connection: reports each event once the machine has handled it. */
class InspectedDriver extends ConnectionDriver {
  private handling = false;
  private queued: string[] | undefined;

  constructor(
    shared: SharedSnapshots,
    clock: Clock,
    effects: ConnectionEffects,
    private readonly id: ConnectionId,
    private readonly inspector: ConnectionInspector,
  ) {
    super(shared, clock, effects);
    inspector.created(id, this.value);
  }

  override send(event: ConnectionEvent): void {
    if (this.handling) {
      // Queued by the driver and handled before the outer send returns: reported with it.
      this.queued ??= [];
      this.queued.push(event.type);
      super.send(event);
      return;
    }
    this.handling = true;
    try {
      super.send(event);
    } finally {
      this.handling = false;
    }
    const queued = this.queued;
    this.queued = undefined;
    const name = queued === undefined ? event.type : [event.type, ...queued].join(" + ");
    this.inspector.stepped(this.id, name, this.value, this.done);
  }
}

export type PushOutcome = "delivered" | "duplicate" | "dropped";

const CONNECTION = Symbol("connection");
type SocketWithConnection = WebSocket & { [CONNECTION]?: Connection };

function onSocketMessage(this: SocketWithConnection, data: unknown, isBinary: boolean): void {
  this[CONNECTION]?.receive(data as Buffer, isBinary);
}

function onSocketClose(this: SocketWithConnection): void {
  this[CONNECTION]?.socketClosed();
}

function onSocketError(this: SocketWithConnection, error: Error): void {
  this[CONNECTION]?.socketError(error);
}

/** How many recent (chat_id, sequence) pushes a connection remembers to drop duplicates (D4 allows them). */
const DEDUPE_WINDOW = 512;

/**
 * One client connection: the machine of actors/connection decides the lifecycle, this object owns the
 * socket, answers frames (through the durability plane's IngestApi), applies rate limits and buffers pushes.
 */
export class Connection implements ConnectionEffects {
  readonly id: ConnectionId;
  readonly connectedAt: number;
  principal: Principal | undefined;
  /** Set once the routing entry has been removed, so it is removed once. */
  routingReleased = false;
  private socket: WebSocket | undefined;
  private buffer: OutboundBuffer | undefined;
  private readonly actor: ConnectionDriver;
  private readonly options: ConnectionOptions;
  private slowSignalled = false;
  private inFlight = 0;
  private invalidFrames: WindowCounter | undefined;
  private refusedFrames: WindowCounter | undefined;
  private sendBucket: TokenBucket | undefined;
  private syncBucket: TokenBucket | undefined;
  private ackBucket: TokenBucket | undefined;
  private chatBuckets: Map<string, TokenBucket> | undefined;
  private seen: Set<string> | undefined;

  constructor(id: ConnectionId, options: ConnectionOptions) {
    this.options = options;
    this.id = id;
    this.connectedAt = options.clock.now();
    this.actor =
      options.inspect === undefined
        ? new ConnectionDriver(options.snapshots, options.clock, this)
        : new InspectedDriver(options.snapshots, options.clock, this, id, options.inspect);
  }

  /** The machine's top-level state: `authenticating`, `established`, `closing` or `closed`. */
  get state(): string {
    const value = this.actor.value;
    return typeof value === "string" ? value : (Object.keys(value)[0] ?? "unknown");
  }

  get isOpen(): boolean {
    return this.actor.matches("established");
  }

  /** The push buffer's size (messages, bytes) and fill ratio, for inspection. */
  get outbound(): { messages: number; bytes: number; fill: number } {
    const buffer = this.buffer;
    return buffer === undefined
      ? { messages: 0, bytes: 0, fill: 0 }
      : { messages: buffer.messages, bytes: buffer.bytes, fill: buffer.fill };
  }

  /** The lifecycle machine's full state value, for inspection. */
  get machineState(): unknown {
    return this.actor.value;
  }

  entry(now: number): ConnectionEntry {
    const principal = this.principal;
    if (principal === undefined) throw new Error("the connection has not authenticated");
    return {
      connectionId: this.id,
      userId: principal.userId,
      deviceId: principal.deviceId,
      gatewayId: this.options.gatewayId,
      connectedAt: this.connectedAt,
      lastHeartbeatAt: now,
    };
  }

  socketClosed(): void {
    this.actor.send({ type: "SOCKET_CLOSED" });
  }

  socketError(error: Error): void {
    this.options.logger.debug({ err: error, connection_id: this.id }, "socket error");
  }

  /** The upgrade was refused before any socket existed. */
  reject(): void {
    this.actor.send({ type: "REJECTED" });
  }

  /** The socket is open and registered: greet the client and start serving. */
  establish(socket: WebSocket, principal: Principal): void {
    const { limits, clock } = this.options;
    this.socket = socket;
    this.principal = principal;
    // Buffers, buckets and counters are made on first use: most connections sit idle most of the time.
    // Shared listeners find their connection on the socket: no closures per connection.
    (socket as SocketWithConnection)[CONNECTION] = this;
    socket.on("message", onSocketMessage);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
    this.actor.send({ type: "ESTABLISHED", tokenTtlMs: principal.expiresAt - clock.now() });
    this.reply({
      type: "connection_established",
      payload: {
        connection_id: this.id,
        user_id: principal.userId,
        device_id: principal.deviceId,
        server_time: isoTime(clock.now()),
        heartbeat_interval_ms: limits.heartbeatIntervalMs,
        protocol_version: PROTOCOL_VERSION,
      },
    });
  }

  /** The socket went away before the handshake finished. */
  abandon(): void {
    this.actor.send({ type: "SOCKET_CLOSED" });
  }

  /** Ends the socket without a close handshake (drain grace over). */
  kill(): void {
    if (this.socket === undefined) this.actor.send({ type: "SOCKET_CLOSED" });
    else this.socket.terminate();
  }

  /** Asks the machine to close with a protocol reason (a no-op unless established). */
  close(reason: CloseReason): void {
    this.actor.send({ type: "CLOSE", reason });
  }

  /**
   * Queues an encoded `message` push. `key` is `chat_id:sequence`: a push this connection already had is
   * skipped (consumers dedupe by it; duplicates after a crash are allowed upstream, D4).
   */
  push(frame: string, bytes: number, key: string): PushOutcome {
    const buffer = this.outboundBuffer();
    if (buffer === undefined || !this.isOpen) return "dropped";
    this.seen ??= new Set();
    if (this.seen.has(key)) return "duplicate";
    if (!buffer.push(frame, bytes)) {
      // Never a silent drop: the client is told (connection_closing{slow_consumer}) and heals by sync.
      this.actor.send({ type: "BUFFER_OVERFLOW" });
      return "dropped";
    }
    this.seen.add(key);
    if (this.seen.size > DEDUPE_WINDOW) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.checkBuffer();
    return "delivered";
  }

  /** The push buffer, made on first use; undefined before the socket exists. */
  private outboundBuffer(): OutboundBuffer | undefined {
    const socket = this.socket;
    if (socket === undefined) return undefined;
    const { limits } = this.options;
    this.buffer ??= new OutboundBuffer(
      socket,
      { maxMessages: limits.outboundMaxMessages, maxBytes: limits.outboundMaxBytes },
      () => this.checkBuffer(),
    );
    return this.buffer;
  }

  private checkBuffer(): void {
    const buffer = this.buffer;
    if (buffer === undefined) return;
    const fill = buffer.fill;
    const { slowConsumerRatio, slowConsumerResumeRatio } = this.options.limits;
    if (!this.slowSignalled && fill >= slowConsumerRatio) {
      this.slowSignalled = true;
      this.actor.send({ type: "BUFFER_HIGH" });
    } else if (this.slowSignalled && fill < slowConsumerResumeRatio) {
      this.slowSignalled = false;
      this.actor.send({ type: "BUFFER_RECOVERED" });
    }
  }

  /** Effect of the machine: the close handshake took too long. */
  terminate(): void {
    this.socket?.terminate();
  }

  /** Effect of the machine: the buffer crossed the warning level. */
  warnSlowConsumer(): void {
    const buffer = this.buffer;
    const { outboundMaxMessages, outboundMaxBytes, slowConsumerGraceMs } = this.options.limits;
    this.control({
      type: "error",
      payload: {
        code: "SLOW_CONSUMER",
        message: "the connection is not reading its messages fast enough",
        details: {
          buffer_size: buffer?.messages ?? 0,
          buffer_limit: outboundMaxMessages,
          buffer_bytes: buffer?.bytes ?? 0,
          buffer_bytes_limit: outboundMaxBytes,
          grace_period_seconds: slowConsumerGraceMs / 1000,
        },
      },
    });
  }

  /** Effect of the machine: tell the client why, release its routing entry, start the close handshake. */
  beginClose(reason: CloseReason): void {
    this.options.metrics.serverClosed(reason);
    const closing = CLOSING_REASONS[reason];
    this.control({
      type: "connection_closing",
      payload: {
        reason,
        message: closing.message,
        reconnect_delay_ms: this.options.limits.reconnectDelayMs,
        reconnect_allowed: true,
      },
    });
    this.buffer?.close();
    this.options.hooks.onClosing(this);
    this.socket?.close(closing.code, reason);
  }

  /** Effect of the machine: the connection is gone. */
  release(): void {
    this.buffer?.close();
    if (this.principal !== undefined) this.options.hooks.onReleased(this);
  }

  /**
   * Replies share the push buffer and its slow-consumer rules (D9): a client that stops reading but keeps
   * asking (sync pages of 500 messages) must fill this bounded buffer, not the process's memory. A reply that
   * does not fit closes the connection as a push would.
   */
  private reply(frame: ServerFrame): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== socket.OPEN) return;
    // Closing: the buffer is gone, and the answers of the requests still in flight (at most
    // maxInFlightRequests) go straight out, so a send stored during a drain is still acknowledged.
    if (!this.isOpen) {
      this.control(frame);
      return;
    }
    // Nothing pushed yet and nothing waiting in the socket: the frame goes straight out, and an idle
    // connection (its first frame is a reply) never pays for a buffer. A client that stops reading fills the
    // socket first; from then on its replies go through the buffer and its limits.
    if (this.buffer === undefined && socket.bufferedAmount === 0) {
      socket.send(encodeFrame(frame, this.options.clock.now()));
      return;
    }
    const buffer = this.outboundBuffer();
    if (buffer === undefined) return;
    // Only the hard limit is judged here: a sync page alone may exceed the warning level while a reading
    // client takes it; the warning level is judged on pushes and as writes finish.
    if (!buffer.reply(encodeFrame(frame, this.options.clock.now())))
      this.actor.send({ type: "BUFFER_OVERFLOW" });
  }

  /**
   * The frames that announce a close or warn about the buffer skip it: one or two per connection's life, and
   * they must reach a client whose buffer is full.
   */
  private control(frame: ServerFrame): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== socket.OPEN) return;
    socket.send(encodeFrame(frame, this.options.clock.now()));
  }

  /** A frame arrived (called by the socket's shared listener). */
  receive(data: Buffer, isBinary: boolean): void {
    if (!this.isOpen) return;
    const { limits, clock } = this.options;
    const parsed = parseFrame(data, isBinary, limits);
    switch (parsed.kind) {
      case "unknown":
        this.options.metrics.frameReceived("unknown");
        this.options.logger.debug(
          { connection_id: this.id, type: parsed.type.slice(0, 64) },
          "unknown frame type ignored",
        );
        return;
      case "invalid": {
        this.options.metrics.frameReceived("invalid");
        this.sendError(parsed.error, parsed.requestId);
        this.invalidFrames ??= new WindowCounter(
          clock,
          limits.abuseWindowMs,
          limits.invalidFrameCloseThreshold,
        );
        if (this.invalidFrames.record() >= limits.invalidFrameCloseThreshold) this.close("protocol_error");
        return;
      }
      case "frame":
        this.handle(parsed.frame);
        return;
    }
  }

  private handle(frame: ClientFrame): void {
    const principal = this.principal;
    if (principal === undefined) return;
    const { ingest, clock, metrics } = this.options;
    metrics.frameReceived(frame.type);
    switch (frame.type) {
      case "heartbeat":
        this.actor.send({ type: "HEARTBEAT" });
        this.reply({
          type: "heartbeat_ack",
          ...(frame.requestId === undefined ? {} : { request_id: frame.requestId }),
          payload: { server_time: isoTime(clock.now()) },
        });
        return;
      case "send_message": {
        if (!this.admit(frame.requestId, this.sendLimit(frame.chatId), "send_message")) return;
        const receivedAt = clock.now();
        this.track(
          frame.requestId,
          ingest.persist({
            chatId: frame.chatId,
            senderId: principal.userId,
            clientMessageId: frame.clientMessageId,
            content: frame.content,
            contentType: frame.contentType,
            // Fanout spares this connection the push of its own message (it gets the ack).
            senderConnectionId: this.id,
            ...(frame.traceparent === undefined ? {} : { traceparent: frame.traceparent }),
          }),
          (result) => {
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
          },
        );
        return;
      }
      case "sync_request": {
        const { limits, clock: now } = this.options;
        this.syncBucket ??= new TokenBucket(
          now,
          limits.syncPerConnectionPerSecond,
          limits.syncPerConnectionPerSecond,
        );
        if (!this.admit(frame.requestId, this.syncBucket.take(), "sync_request")) return;
        const limit =
          frame.limit === undefined || frame.limit === 0 ? undefined : Math.min(frame.limit, SYNC_MAX_LIMIT);
        this.track(
          frame.requestId,
          ingest.sync({
            chatId: frame.chatId,
            userId: principal.userId,
            afterSequence: frame.lastAckedSequence,
            ...(limit === undefined ? {} : { limit }),
          }),
          (result) => ({
            type: "sync_response",
            request_id: frame.requestId,
            payload: {
              chat_id: frame.chatId,
              messages: result.messages.map(toWireSyncMessage),
              has_more: result.hasMore,
              ...(result.hasMore ? { next_sequence: result.nextSequence } : {}),
            },
          }),
        );
        return;
      }
      case "ack":
        // One-way (protocol §9): never answered. 0 acknowledges nothing.
        if (frame.lastAckedSequence === 0) return;
        if (!this.admitAck()) return;
        ingest
          .ack({ chatId: frame.chatId, userId: principal.userId, sequence: frame.lastAckedSequence })
          .then(
            () => metrics.ackForwarded("stored"),
            (error: unknown) => {
              metrics.ackForwarded("failed");
              this.options.logger.warn(
                { err: error, connection_id: this.id, chat_id: frame.chatId },
                "ack not stored",
              );
            },
          );
        return;
      case "typing_start":
      case "typing_stop":
        // [MVP-opt] typing indicators are not implemented; the protocol allows dropping them silently.
        return;
    }
  }

  /** Per-chat and per-connection send limits: milliseconds to wait, or 0 when admitted. */
  private sendLimit(chatId: string): number {
    const { limits, clock } = this.options;
    this.chatBuckets ??= new Map();
    let bucket = this.chatBuckets.get(chatId);
    if (bucket === undefined) {
      // Full buckets are forgotten, so a client cycling through chat ids cannot grow this map without bound.
      if (this.chatBuckets.size >= 64) {
        for (const [id, candidate] of this.chatBuckets) if (candidate.isFull()) this.chatBuckets.delete(id);
      }
      bucket = new TokenBucket(clock, limits.sendPerChatPerSecond, limits.sendPerChatBurst);
      this.chatBuckets.set(chatId, bucket);
    }
    const chatWait = bucket.take();
    if (chatWait > 0) return chatWait;
    this.sendBucket ??= new TokenBucket(
      clock,
      limits.sendPerConnectionPerSecond,
      limits.sendPerConnectionPerSecond,
    );
    return this.sendBucket.take();
  }

  /**
   * Acks have a bucket of their own. One over it is dropped without an answer (a one-way frame; the client
   * acks cumulatively again later, and delivery state only grows), and counts toward the `rate_limited` close.
   */
  private admitAck(): boolean {
    const { limits, clock } = this.options;
    this.ackBucket ??= new TokenBucket(clock, limits.ackPerConnectionPerSecond, limits.ackPerConnectionBurst);
    if (this.ackBucket.take() === 0) return true;
    this.options.metrics.rateLimited("ack", "rate");
    this.refusedFrames ??= new WindowCounter(clock, limits.abuseWindowMs, limits.rateLimitedCloseThreshold);
    if (this.refusedFrames.record() >= limits.rateLimitedCloseThreshold) this.close("rate_limited");
    return false;
  }

  /** Refuses a request over a rate limit or the in-flight bound with RATE_LIMITED; persistent abuse closes. */
  private admit(requestId: string, waitMs: number, endpoint: RateLimitedEndpoint): boolean {
    const { limits, clock } = this.options;
    const busy = this.inFlight >= limits.maxInFlightRequests;
    if (waitMs === 0 && !busy) return true;
    this.options.metrics.rateLimited(endpoint, busy ? "in_flight" : "rate");
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    this.reply({
      type: "error",
      request_id: requestId,
      payload: {
        code: "RATE_LIMITED",
        message: busy ? "too many requests in flight" : "too many requests",
        details: { retry_after_seconds: retryAfterSeconds },
      },
    });
    this.refusedFrames ??= new WindowCounter(clock, limits.abuseWindowMs, limits.rateLimitedCloseThreshold);
    if (this.refusedFrames.record() >= limits.rateLimitedCloseThreshold) this.close("rate_limited");
    return false;
  }

  private track<T>(requestId: string, call: Promise<T>, answer: (result: T) => ServerFrame): void {
    this.inFlight++;
    call.then(
      (result) => {
        this.inFlight--;
        this.reply(answer(result));
      },
      (error: unknown) => {
        this.inFlight--;
        const appError = toAppError(error);
        if (!appError.public)
          this.options.logger.error({ err: error, connection_id: this.id }, "request failed");
        this.sendError(appError, requestId);
      },
    );
  }

  private sendError(error: AppError, requestId: string | undefined): void {
    const view = wsErrorView(error);
    this.reply({
      type: "error",
      ...(requestId === undefined ? {} : { request_id: requestId }),
      payload: view,
    });
  }
}

/** What a WebSocket client may see of an error: only the protocol's codes (§6: "No other codes may be sent"). */
export function wsErrorView(error: AppError): Extract<ServerFrame, { type: "error" }>["payload"] {
  const view = publicView(error);
  if (isProtocolErrorCode(view.code)) return { ...view, code: view.code };
  return { code: "INTERNAL_ERROR", message: "internal error" };
}
