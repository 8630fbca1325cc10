import type { WebSocket } from "ws";
import type { CloseReason } from "../actors/connection/connection.machine.js";
import {
  ConnectionDriver,
  type ConnectionEffects,
  type SharedSnapshots,
} from "../actors/connection/connection-driver.js";
import { isoTime } from "../runtime/clock.js";
import type { AppError } from "../runtime/errors.js";
import type { ConnectionId } from "../runtime/ids.js";
import type { ConnectionEntry } from "../runtime/ports/routing.js";
import { PROTOCOL_VERSION } from "../runtime/protocol-limits.js";
import { ConnectionLimiter } from "./connection-limiter.js";
import { type DispatchOptions, type FrameContext, receiveFrame } from "./frame-dispatch.js";
import type { Principal } from "./handshake.js";
import { type ConnectionInspector, InspectedDriver } from "./inspected-driver.js";
import { type FlowListener, type FlowSignal, PushChannel, type PushOutcome } from "./push-channel.js";
import { CLOSING_REASONS, encodeFrame, type ServerFrame, wsErrorView } from "./server-frames.js";

export interface ConnectionHooks {
  /** The connection is going away: remove its routing entry (it has been told why). */
  readonly onClosing: (connection: Connection) => void;
  /** The connection is gone: forget it. */
  readonly onReleased: (connection: Connection) => void;
}

/** What every connection of one gateway shares (one object, not one per connection). */
export interface ConnectionOptions extends DispatchOptions {
  readonly gatewayId: string;
  readonly hooks: ConnectionHooks;
  /** The gateway's shared machine snapshots (see ConnectionDriver). */
  readonly snapshots: SharedSnapshots;
  /** Told about every connection's machine steps (the inspector); absent, nothing is reported. */
  readonly inspect?: ConnectionInspector;
}

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

/**
 * One client connection: the machine of actors/connection decides the lifecycle, this object owns the socket
 * and performs the machine's effects. What it delegates, each made on first use (most connections sit idle
 * most of the time): answering frames to frame-dispatch.ts, the rate limits and abuse counters to
 * connection-limiter.ts, pushes and their buffer to push-channel.ts.
 */
export class Connection implements ConnectionEffects, FrameContext, FlowListener {
  readonly id: ConnectionId;
  readonly connectedAt: number;
  principal: Principal | undefined;
  /** Set once the routing entry has been removed, so it is removed once. */
  routingReleased = false;
  readonly options: ConnectionOptions;
  private socket: WebSocket | undefined;
  private channel: PushChannel | undefined;
  private requestLimits: ConnectionLimiter | undefined;
  private readonly actor: ConnectionDriver;

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
    const channel = this.channel;
    return channel === undefined
      ? { messages: 0, bytes: 0, fill: 0 }
      : { messages: channel.messages, bytes: channel.bytes, fill: channel.fill };
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

  /** Queues an encoded `message` push (see PushChannel.push); dropped unless the connection is open. */
  push(frame: string, bytes: number, key: string): PushOutcome {
    const channel = this.isOpen ? this.pushChannel() : undefined;
    return channel === undefined ? "dropped" : channel.push(frame, bytes, key);
  }

  /**
   * Sends an encoded ephemeral frame (see PushChannel.pushEphemeral); false when it was dropped: the
   * connection is not open or its buffer is backed up. Like a reply, an idle connection whose socket has
   * nothing waiting gets it straight away, without a buffer being made for it.
   */
  pushEphemeral(frame: string, bytes: number): boolean {
    const socket = this.socket;
    if (!this.isOpen || socket === undefined || socket.readyState !== socket.OPEN) return false;
    if (this.channel === undefined && socket.bufferedAmount === 0) {
      socket.send(frame);
      return true;
    }
    return this.pushChannel()?.pushEphemeral(frame, bytes) ?? false;
  }

  /** The push channel's signals go to the machine's `flow` region. */
  flow(signal: FlowSignal): void {
    this.actor.send({ type: signal });
  }

  /** A frame arrived (called by the socket's shared listener). */
  receive(data: Buffer, isBinary: boolean): void {
    const principal = this.principal;
    if (!this.isOpen || principal === undefined) return;
    receiveFrame(this, principal, data, isBinary);
  }

  limiter(): ConnectionLimiter {
    this.requestLimits ??= new ConnectionLimiter(this.options.clock, this.options.limits);
    return this.requestLimits;
  }

  heartbeat(): void {
    this.actor.send({ type: "HEARTBEAT" });
  }

  /** Effect of the machine: the close handshake took too long. */
  terminate(): void {
    this.socket?.terminate();
  }

  /** Effect of the machine: the buffer crossed the warning level. */
  warnSlowConsumer(): void {
    const { messages, bytes } = this.outbound;
    const { outboundMaxMessages, outboundMaxBytes, slowConsumerGraceMs } = this.options.limits;
    this.control({
      type: "error",
      payload: {
        code: "SLOW_CONSUMER",
        message: "the connection is not reading its messages fast enough",
        details: {
          buffer_size: messages,
          buffer_limit: outboundMaxMessages,
          buffer_bytes: bytes,
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
    this.channel?.close();
    this.options.hooks.onClosing(this);
    this.socket?.close(closing.code, reason);
  }

  /** Effect of the machine: the connection is gone. */
  release(): void {
    this.channel?.close();
    if (this.principal !== undefined) this.options.hooks.onReleased(this);
  }

  /**
   * Replies share the push buffer and its slow-consumer rules (D9): a client that stops reading but keeps
   * asking (sync pages of 500 messages) must fill this bounded buffer, not the process's memory. A reply that
   * does not fit closes the connection as a push would.
   */
  reply(frame: ServerFrame): void {
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
    if (this.channel === undefined && socket.bufferedAmount === 0) {
      socket.send(encodeFrame(frame, this.options.clock.now()));
      return;
    }
    this.pushChannel()?.reply(encodeFrame(frame, this.options.clock.now()));
  }

  sendError(error: AppError, requestId: string | undefined): void {
    this.reply({
      type: "error",
      ...(requestId === undefined ? {} : { request_id: requestId }),
      payload: wsErrorView(error),
    });
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

  /** The push channel, made on first use; undefined before the socket exists. */
  private pushChannel(): PushChannel | undefined {
    const socket = this.socket;
    if (socket === undefined) return undefined;
    this.channel ??= new PushChannel(socket, this.options.limits, this);
    return this.channel;
  }
}
