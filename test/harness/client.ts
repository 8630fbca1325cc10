import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { type Actor, createActor } from "xstate";
import { type Clock, SystemClock } from "../../runtime/clock.js";
import { AckBatcher } from "./ack-batcher.js";
import { backoffDelayMs, type Random } from "./backoff.js";
import {
  type ClientReconnectReason,
  type ClientStateName,
  type Connectivity,
  clientMachine,
  connectivityOf,
  contractStateOf,
} from "./client.machine.js";
import { ClientEmitter, type ClientEvents } from "./client-events.js";
import {
  type Ack,
  ClientError,
  type ClientLogger,
  type ClientOptions,
  type ClientTimings,
  DEFAULT_TIMINGS,
  SILENT_LOGGER,
} from "./client-options.js";
import { openClientSocket } from "./client-socket.js";
import { ClientStore, type LocalMessage, type OutboxEntry } from "./client-store.js";
import { connectionReaction } from "./error-reactions.js";
import { Inbox } from "./inbox.js";
import { Outbox } from "./outbox.js";
import { SyncScheduler } from "./sync-scheduler.js";
import { TokenKeeper } from "./token-keeper.js";
import {
  type ClientFrame,
  type ErrorPayload,
  isErrorCode,
  MAX_SYNC_LIMIT,
  parseServerFrame,
  type SendAck,
  type ServerFrame,
} from "./wire.js";

export type {
  AccessToken,
  Ack,
  ClientLogger,
  ClientOptions,
  ClientTimings,
  TokenProvider,
} from "./client-options.js";
export { ClientError, DEFAULT_TIMINGS } from "./client-options.js";

type PendingRequest =
  | { readonly kind: "send"; readonly clientMessageId: string; readonly sentAt: number }
  | { readonly kind: "sync"; readonly chatId: string }
  | { readonly kind: "heartbeat"; readonly sentAt: number };

/**
 * The reference client (spec/client-contract.md): a `ws` socket driven by `clientMachine` (when), with the
 * sending side in `Outbox`, the receiving side in `Inbox`, durable state in `ClientStore`, acks batched by
 * `AckBatcher` and syncs paced by `SyncScheduler`. This object wires them to the socket and to the machine's
 * actions, and is the API for tests and tools. Requirement ids (CL-01 …) mark where each is met.
 */
export class MessagingClient {
  readonly deviceId: string;
  private readonly options: ClientOptions;
  private readonly timings: ClientTimings;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly latencyNow: () => number;
  private readonly logger: ClientLogger;
  private readonly store: ClientStore;
  private readonly events = new ClientEmitter();
  private readonly actor: Actor<typeof clientMachine>;
  private readonly syncs: SyncScheduler;
  private readonly acks: AckBatcher;
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  private readonly tokens: TokenKeeper;

  private socket: WebSocket | undefined;
  private socketGeneration = 0;
  /** `connection_established` seen on the current socket (CL-03: nothing is sent before). */
  private established = false;
  private userId: string | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private lastState: ClientStateName = "Disconnected";
  private lastConnectivity: Connectivity = "offline";
  private wasWaiting = false;
  private rtt = { lastMs: undefined as number | undefined, totalMs: 0, samples: 0 };
  private sendLatency = { totalMs: 0, samples: 0 };

  constructor(options: ClientOptions) {
    this.options = options;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? Math.random;
    this.latencyNow = options.latencyNow ?? (() => performance.now());
    this.logger = options.logger ?? SILENT_LOGGER;
    this.store = ClientStore.open(options.stateFile, {
      deviceId: options.deviceId ?? randomUUID(),
      ...(options.userId === undefined ? {} : { userId: options.userId }),
    });
    // CL-02: the device id of the state file unless told otherwise.
    this.deviceId = options.deviceId ?? this.store.deviceId;
    this.userId = options.userId ?? this.store.userId ?? undefined;
    for (const chatId of options.chats ?? []) this.store.track(chatId);
    this.store.save();

    const backoff = (attempt: number) =>
      backoffDelayMs(Math.max(0, attempt - 1), this.timings.backoff, this.random);
    const reconnect = (reason: ClientReconnectReason) => this.actor.send({ type: "RECONNECT", reason });
    this.syncs = new SyncScheduler(
      this.clock,
      { maxInFlight: this.timings.maxSyncInFlight, perSecond: this.timings.syncPerSecond },
      (chatId, cursor) => this.sendSyncRequest(chatId, cursor),
    );
    this.acks = new AckBatcher(
      this.clock,
      { batchSize: this.timings.ackBatchSize, flushIntervalMs: this.timings.ackFlushIntervalMs },
      () => this.flushAcks(),
    );
    this.inbox = new Inbox({
      store: this.store,
      syncs: this.syncs,
      acks: this.acks,
      events: this.events,
      logger: this.logger,
      timings: this.timings,
      backoff,
      reconnect,
      onInitialSyncDone: () => {
        const phase = this.sessionPhase();
        if (phase === "connected" || phase === "syncing") this.actor.send({ type: "SYNC_COMPLETE" });
      },
    });
    this.outbox = new Outbox({
      store: this.store,
      clock: this.clock,
      timings: this.timings,
      events: this.events,
      logger: this.logger,
      backoff,
      reconnect,
      transmit: (entry) => this.sendMessageFrame(entry),
      dropChat: (chatId, reason) => this.inbox.dropChat(chatId, reason),
    });
    this.tokens = new TokenKeeper(
      options.tokens,
      this.clock,
      this.timings.tokenRefreshLeadMs,
      this.logger,
      (token) => {
        this.events.emit("token_refreshed", { expiresAtMs: token.expiresAtMs });
        // CL-07: no in-session refresh (protocol §3): present the new token on a new connection.
        if (this.sessionPhase() !== undefined) reconnect("token_refresh");
      },
    );

    const machine = clientMachine.provide({
      actions: {
        obtainToken: (_, params) => this.obtainToken(params.forceRefresh),
        openSocket: () => this.openSocket(),
        abortSocket: () => this.dropSocket(),
        beginSync: () => {
          const started = this.inbox.beginSession();
          queueMicrotask(() => this.actor.send({ type: started ? "SYNC_STARTED" : "SYNC_COMPLETE" }));
        },
        sendHeartbeat: () => this.sendHeartbeat(),
        flushOutbox: () => this.outbox.resume(),
        stopSending: () => {
          this.outbox.pause();
          this.syncs.setOpen(false);
        },
        flushAcks: () => this.acks.flushNow(),
        closeSocket: () => this.closeSocket(),
        terminateSocket: () => this.dropSocket(),
      },
    });
    this.actor = createActor(machine, {
      clock: this.clock,
      input: {
        policy: {
          backoff: this.timings.backoff,
          random: this.random,
          closeTimeoutMs: this.timings.closeTimeoutMs,
          reconnectOnDuplicate: options.reconnectOnDuplicate ?? false,
        },
      },
    });
    this.actor.subscribe((snapshot) => this.observe(snapshot));
    this.actor.start();
  }

  // ---------------------------------------------------------------- API

  /** Goes online; resolves once Ready, rejects if the client ends offline without retrying (403, revoked). */
  connect(): Promise<void> {
    this.actor.send({ type: "CONNECT" });
    return this.until((state, connectivity) => state === "Ready" || connectivity === "offline").then(() => {
      if (this.lastState !== "Ready") {
        throw new ClientError("OFFLINE", `could not connect: ${this.actor.getSnapshot().context.lastReason}`);
      }
    });
  }

  /**
   * Sends a text message: checked (MS-06), given a new client_message_id (MS-01), stored before it goes out
   * (MS-04), held while not Ready (MS-07), retried with the same id (MS-02). Resolves with the ack (the
   * message is durably stored); rejects on a non-retryable error.
   */
  send(chatId: string, content: string): Promise<Ack> {
    const wasKnown = this.store.knows(chatId) && this.store.droppedReason(chatId) === null;
    const acked = this.outbox.add(chatId, content);
    if (!wasKnown && this.store.knows(chatId) && this.sessionPhase() === "ready") this.inbox.syncNow(chatId);
    return acked;
  }

  /** The ack of an outbox entry (also of one restored from the state file after a restart). */
  whenAcked(clientMessageId: string): Promise<Ack> {
    return this.outbox.whenAcked(clientMessageId);
  }

  /** Sends stored but not yet acknowledged (MS-04). */
  pendingSends(): readonly OutboxEntry[] {
    return this.store.outbox();
  }

  /** MR-01/MR-02: the chat's messages held locally, by sequence, without duplicates. */
  messages(chatId: string): LocalMessage[] {
    return this.store.messages(chatId);
  }

  /** AK-05: the chat's cursor. */
  lastAckedSequence(chatId: string): number {
    return this.store.lastAcked(chatId);
  }

  chats(): string[] {
    return this.store.activeChats();
  }

  /** Why a chat is no longer synced (NOT_A_MEMBER, NOT_FOUND, FORBIDDEN), or null. */
  droppedReason(chatId: string): string | null {
    return this.store.droppedReason(chatId);
  }

  /** Adds a chat to sync (at once when connected). */
  track(chatId: string): void {
    if (this.store.knows(chatId) && this.store.droppedReason(chatId) === null) return;
    this.store.track(chatId);
    this.store.save();
    if (this.sessionPhase() !== undefined) this.inbox.syncNow(chatId);
  }

  get state(): ClientStateName {
    return this.lastState;
  }

  /** CL-08. */
  get connectivity(): Connectivity {
    return this.lastConnectivity;
  }

  /** The machine actor, for inspection and drawing. */
  get machine(): Actor<typeof clientMachine> {
    return this.actor;
  }

  /** EH-05: heartbeat round trips and send-to-ack latency, in ms of `latencyNow`. */
  stats(): {
    lastRttMs: number | undefined;
    averageRttMs: number | undefined;
    averageSendAckMs: number | undefined;
  } {
    const average = (total: number, samples: number) => (samples === 0 ? undefined : total / samples);
    return {
      lastRttMs: this.rtt.lastMs,
      averageRttMs: average(this.rtt.totalMs, this.rtt.samples),
      averageSendAckMs: average(this.sendLatency.totalMs, this.sendLatency.samples),
    };
  }

  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Resolves when the client's state satisfies `predicate` (checked now and on every change). */
  until(predicate: (state: ClientStateName, connectivity: Connectivity) => boolean): Promise<void> {
    if (predicate(this.lastState, this.lastConnectivity)) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.events.on("state", ({ state, connectivity }) => {
        if (!predicate(state, connectivity)) return;
        off();
        resolve();
      });
    });
  }

  /** Graceful disconnect: flush acks (AK-04), close, stay offline. Unacked sends stay in the state file. */
  async close(): Promise<void> {
    this.actor.send({ type: "CLOSE" });
    await this.until((state, connectivity) => state === "Disconnected" && connectivity === "offline");
    this.stopTimers();
    this.store.save();
    this.outbox.rejectWaiters();
  }

  /** What a killed process leaves behind: no acks flushed, no close handshake, timers gone. For tests. */
  abandon(): void {
    this.stopTimers();
    this.actor.stop();
    this.socketGeneration++;
    this.socket?.terminate();
    this.socket = undefined;
  }

  // ---------------------------------------------------------------- socket

  private obtainToken(forceRefresh: boolean): void {
    this.tokens.obtain(forceRefresh).then(
      (token) => {
        if (token !== undefined) this.actor.send({ type: "TOKEN_READY" });
      },
      (error: unknown) => {
        this.logger.warn({ err: error }, "token provider failed");
        const message = error instanceof Error ? error.message : String(error);
        this.actor.send({ type: "TOKEN_FAILED", message });
      },
    );
  }

  /** CL-01, CL-02. */
  private openSocket(): void {
    const token = this.tokens.current;
    if (token === undefined) return;
    const generation = ++this.socketGeneration;
    const current = () => generation === this.socketGeneration;
    this.established = false;
    this.socket = openClientSocket(
      {
        url: this.options.url,
        token,
        deviceId: this.deviceId,
        credentialsInQuery: this.options.credentialsInQuery ?? false,
      },
      {
        onRejected: (rejection) => {
          if (!current()) return;
          this.socketGeneration++;
          this.socket = undefined;
          this.logger.warn({ status: rejection.status, error: rejection.error }, "upgrade refused");
          this.events.emit("rejected", rejection);
          this.actor.send({ type: "REJECTED", ...rejection });
        },
        onText: (text) => {
          if (current()) this.receive(text);
        },
        onClose: (code) => {
          if (!current()) return;
          this.socket = undefined;
          this.onSocketGone();
          this.actor.send({ type: "SOCKET_CLOSED", code });
        },
      },
      this.logger,
    );
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socketGeneration++;
    this.socket = undefined;
    this.onSocketGone();
    socket?.terminate();
  }

  private closeSocket(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, "client closing");
    else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
  }

  private onSocketGone(): void {
    this.established = false;
    this.pending.clear();
    this.outbox.pause();
    this.syncs.setOpen(false);
  }

  private stopTimers(): void {
    this.outbox.pause();
    this.acks.cancel();
    this.syncs.setOpen(false);
    this.tokens.cancel();
  }

  // ---------------------------------------------------------------- outgoing frames

  /** CL-03: nothing leaves before `connection_established`. */
  private transmit(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!this.established || socket === undefined || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    this.events.emit("sent", frame);
    return true;
  }

  /** MS-03: a new request_id on every attempt; MS-02: the same client_message_id. */
  private sendMessageFrame(entry: OutboxEntry): void {
    const requestId = randomUUID();
    this.pending.set(requestId, {
      kind: "send",
      clientMessageId: entry.client_message_id,
      sentAt: this.latencyNow(),
    });
    this.transmit({
      type: "send_message",
      request_id: requestId,
      payload: {
        client_message_id: entry.client_message_id,
        chat_id: entry.chat_id,
        content: entry.content,
        content_type: "text/plain",
      },
    });
  }

  /** RS-02: from the stored cursor (or the next page's). MS-03: a unique request_id. */
  private sendSyncRequest(chatId: string, cursor: number | undefined): void {
    const requestId = randomUUID();
    this.pending.set(requestId, { kind: "sync", chatId });
    const limit = Math.min(MAX_SYNC_LIMIT, this.timings.syncPageSize);
    this.transmit({
      type: "sync_request",
      request_id: requestId,
      payload: { chat_id: chatId, last_acked_sequence: cursor ?? this.store.lastAcked(chatId), limit },
    });
  }

  private sendHeartbeat(): void {
    const requestId = randomUUID();
    this.pending.set(requestId, { kind: "heartbeat", sentAt: this.latencyNow() });
    this.transmit({ type: "heartbeat", request_id: requestId, payload: {} });
  }

  /** AK-01: one cumulative ack per chat whose cursor moved; AK-03: cursors cover only stored messages. */
  private flushAcks(): void {
    for (const chatId of this.store.activeChats()) {
      const cursor = this.store.lastAcked(chatId);
      if (cursor <= this.store.serverAcked(chatId)) continue;
      if (!this.transmit({ type: "ack", payload: { chat_id: chatId, last_acked_sequence: cursor } })) return;
      this.store.markServerAcked(chatId, cursor);
    }
    this.store.save();
  }

  // ---------------------------------------------------------------- incoming frames

  private receive(text: string): void {
    const parsed = parseServerFrame(text);
    if (parsed.kind === "unknown") {
      // EH-02: log and carry on.
      this.logger.warn({ type: parsed.type.slice(0, 64) }, "unknown frame type ignored");
      this.events.emit("unknown_frame", { type: parsed.type });
      return;
    }
    if (parsed.kind === "invalid") {
      this.logger.warn({ reason: parsed.reason }, "malformed frame ignored");
      return;
    }
    const frame = parsed.frame;
    this.events.emit("received", frame);
    if (frame.type === "connection_established") {
      this.userId = frame.payload.user_id;
      this.store.setUserId(frame.payload.user_id);
      this.store.save();
      this.established = true;
      this.actor.send({ type: "ESTABLISHED", heartbeatIntervalMs: frame.payload.heartbeat_interval_ms });
      return;
    }
    if (this.established) this.handle(frame);
  }

  private handle(frame: Exclude<ServerFrame, { type: "connection_established" }>): void {
    const request = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
    if (frame.request_id !== undefined) this.pending.delete(frame.request_id);
    switch (frame.type) {
      case "send_message_ack":
        this.onSendAck(frame.payload, request);
        return;
      case "message":
        this.inbox.push(frame.payload);
        return;
      case "sync_response":
        if (request?.kind === "sync") this.inbox.page(request.chatId, frame.payload);
        return;
      case "heartbeat_ack":
        if (request?.kind === "heartbeat") this.recordRtt(this.latencyNow() - request.sentAt);
        return;
      case "error":
        this.onError(frame.payload, frame.request_id, request);
        return;
      case "connection_closing": {
        const { reason, reconnect_delay_ms: reconnectDelayMs } = frame.payload;
        this.logger.info({ reason }, "server is closing the connection");
        this.events.emit("closing", { reason, reconnectDelayMs });
        this.actor.send({ type: "SERVER_CLOSING", reason, reconnectDelayMs });
        return;
      }
    }
  }

  private onSendAck(ack: SendAck, request: PendingRequest | undefined): void {
    if (request?.kind === "send") {
      this.sendLatency = {
        totalMs: this.sendLatency.totalMs + this.latencyNow() - request.sentAt,
        samples: this.sendLatency.samples + 1,
      };
    }
    const { entry, result } = this.outbox.acked(ack);
    if (entry === undefined) return; // a late ack of an earlier attempt
    this.inbox.own({
      chat_id: ack.chat_id,
      sequence: ack.sequence,
      message_id: ack.message_id,
      sender_id: this.userId ?? "",
      content: entry.content,
      content_type: "text/plain",
      created_at: ack.created_at,
    });
    this.events.emit("acked", result);
  }

  /** EH-01: every code of protocol §6, request-bound or unsolicited (error-reactions.ts has the table). */
  private onError(
    error: ErrorPayload,
    requestId: string | undefined,
    request: PendingRequest | undefined,
  ): void {
    const code = error.code;
    this.events.emit("server_error", { code, message: error.message, requestId, details: error.details });
    if (!isErrorCode(code)) this.logger.warn({ code }, "undocumented error code; handled as INTERNAL_ERROR");
    if (request?.kind === "send") {
      this.outbox.failed(request.clientMessageId, error);
      return;
    }
    if (request?.kind === "sync") {
      this.inbox.syncFailed(request.chatId, error);
      return;
    }
    const reconnect = connectionReaction(code);
    if (reconnect !== undefined) this.actor.send({ type: "RECONNECT", reason: reconnect });
    else this.logger.warn({ code, message: error.message }, "server reported an error");
  }

  private recordRtt(rttMs: number): void {
    this.rtt = { lastMs: rttMs, totalMs: this.rtt.totalMs + rttMs, samples: this.rtt.samples + 1 };
    this.events.emit("rtt", { rttMs });
  }

  // ---------------------------------------------------------------- state

  private sessionPhase(): "connected" | "syncing" | "ready" | undefined {
    const value = this.actor.getSnapshot().value;
    if (typeof value === "object" && value !== null && "session" in value) {
      return (value as { session: { phase: "connected" | "syncing" | "ready" } }).session.phase;
    }
    return undefined;
  }

  private observe(snapshot: ReturnType<Actor<typeof clientMachine>["getSnapshot"]>): void {
    const waiting = snapshot.matches({ disconnected: "waiting" });
    if (waiting && !this.wasWaiting) {
      this.events.emit("reconnect_scheduled", {
        delayMs: snapshot.context.reconnectDelayMs,
        reason: snapshot.context.lastReason,
        attempt: snapshot.context.attempt,
      });
    }
    this.wasWaiting = waiting;
    const state = contractStateOf(snapshot.value);
    const connectivity = connectivityOf(state, snapshot.context);
    if (state === this.lastState && connectivity === this.lastConnectivity) return;
    this.lastState = state;
    this.lastConnectivity = connectivity;
    this.events.emit("state", { state, connectivity, reason: snapshot.context.lastReason });
  }
}
