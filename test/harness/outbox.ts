import { randomUUID } from "node:crypto";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import type { ClientReconnectReason } from "./client.machine.js";
import type { ClientEmitter } from "./client-events.js";
import { type Ack, ClientError, type ClientLogger, type ClientTimings } from "./client-options.js";
import type { ClientStore, OutboxEntry } from "./client-store.js";
import { sendErrorReaction } from "./error-reactions.js";
import { contentBytes, type ErrorPayload, isErrorCode, MAX_CONTENT_BYTES, type SendAck } from "./wire.js";

export interface OutboxDeps {
  readonly store: ClientStore;
  readonly clock: Clock;
  readonly timings: ClientTimings;
  readonly events: ClientEmitter;
  readonly logger: ClientLogger;
  /** CL-06 delay before retry `attempt` (1 = the first). */
  readonly backoff: (attempt: number) => number;
  /** Puts one attempt on the wire (a `send_message` with a new request_id, MS-03). */
  readonly transmit: (entry: OutboxEntry) => void;
  readonly dropChat: (chatId: string, reason: string) => void;
  readonly reconnect: (reason: ClientReconnectReason) => void;
}

interface Attempt {
  attempts: number;
  internalErrors: number;
  timer: TimerHandle | undefined;
}

/**
 * The sending side: every send is stored with its client_message_id before it goes out (MS-04), waits while
 * the client is not Ready (MS-07), goes out again with the same id after a timeout or a retryable error
 * (MS-02), and leaves the outbox only on its ack or a non-retryable error.
 */
export class Outbox {
  private open = false;
  private readonly attempts = new Map<string, Attempt>();
  private readonly waiters = new Map<
    string,
    Array<{ resolve: (ack: Ack) => void; reject: (error: Error) => void }>
  >();

  constructor(private readonly deps: OutboxDeps) {}

  /** MS-06, MS-01, MS-04, MS-07. */
  add(chatId: string, content: string): Promise<Ack> {
    const bytes = contentBytes(content);
    if (bytes === 0) return Promise.reject(new ClientError("INVALID_MESSAGE", "content must not be empty"));
    if (bytes > MAX_CONTENT_BYTES) {
      return Promise.reject(
        new ClientError("MESSAGE_TOO_LARGE", `content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}`, {
          max_bytes: MAX_CONTENT_BYTES,
          received_bytes: bytes,
        }),
      );
    }
    // MS-01/MS-05: a fresh UUIDv4 per logical message, never reused.
    const entry: OutboxEntry = {
      client_message_id: randomUUID(),
      chat_id: chatId,
      content,
      created_at_ms: this.deps.clock.now(),
    };
    const { store } = this.deps;
    // EH-03: a chat the server once refused is tried again; membership is the server's to decide.
    store.track(chatId);
    store.addToOutbox(entry);
    store.save();
    const acked = this.whenAcked(entry.client_message_id);
    if (this.open) this.attempt(entry);
    return acked;
  }

  whenAcked(clientMessageId: string): Promise<Ack> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(clientMessageId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(clientMessageId, list);
    });
  }

  /** Ready: everything stored goes out, in order (also what a restarted client found in its state file). */
  resume(): void {
    this.open = true;
    for (const entry of this.deps.store.outbox()) {
      if (this.attempts.get(entry.client_message_id)?.timer === undefined) this.attempt(entry);
    }
  }

  /** CL-05: stop sending; what is unacknowledged waits for the next connection. */
  pause(): void {
    this.open = false;
    for (const state of this.attempts.values()) {
      if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
      state.timer = undefined;
    }
  }

  /** The ack of an attempt (maybe a late one of an earlier attempt). Returns the entry when it was pending. */
  acked(ack: SendAck): { entry: OutboxEntry | undefined; result: Ack } {
    const id = ack.client_message_id;
    const entry = this.deps.store.removeFromOutbox(id);
    this.forget(id);
    const result: Ack = {
      clientMessageId: id,
      chatId: ack.chat_id,
      messageId: ack.message_id,
      sequence: ack.sequence,
      createdAt: ack.created_at,
    };
    for (const waiter of this.waiters.get(id) ?? []) waiter.resolve(result);
    this.waiters.delete(id);
    return { entry, result };
  }

  /** EH-01 for a send: see error-reactions.ts. */
  failed(clientMessageId: string, error: ErrorPayload): void {
    const entry = this.deps.store
      .outbox()
      .find((candidate) => candidate.client_message_id === clientMessageId);
    const state = this.attempts.get(clientMessageId);
    if (entry === undefined || state === undefined) return;
    if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
    state.timer = undefined;
    if (error.code === "INTERNAL_ERROR" || !isErrorCode(error.code)) state.internalErrors++;
    const reaction = sendErrorReaction(error.code, error, {
      attempts: state.attempts,
      internalErrors: state.internalErrors,
      internalErrorTries: this.deps.timings.internalErrorTries,
      backoff: this.deps.backoff,
    });
    switch (reaction.kind) {
      case "reconnect":
        this.deps.reconnect(reaction.reason);
        return;
      case "retry":
        this.deps.events.emit("send_retry", { clientMessageId, delayMs: reaction.delayMs });
        state.timer = this.deps.clock.setTimeout(() => {
          state.timer = undefined;
          if (this.open && this.deps.store.outbox().includes(entry)) this.attempt(entry);
        }, reaction.delayMs);
        return;
      case "fail_and_drop_chat":
        this.deps.dropChat(entry.chat_id, error.code);
        this.fail(entry, error);
        return;
      case "fail":
        this.fail(entry, error);
        return;
    }
  }

  /** The client is closing: callers stop waiting; the entries stay stored for the next start. */
  rejectWaiters(): void {
    for (const [clientMessageId, list] of this.waiters) {
      for (const waiter of list) {
        waiter.reject(new ClientError("CLOSED", `client closed before ${clientMessageId} was acked`));
      }
    }
    this.waiters.clear();
  }

  private attempt(entry: OutboxEntry): void {
    const id = entry.client_message_id;
    const state = this.attempts.get(id) ?? { attempts: 0, internalErrors: 0, timer: undefined };
    this.attempts.set(id, state);
    if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
    state.attempts++;
    state.timer = this.deps.clock.setTimeout(() => this.timedOut(id), this.deps.timings.sendTimeoutMs);
    this.deps.transmit(entry);
  }

  private timedOut(clientMessageId: string): void {
    const state = this.attempts.get(clientMessageId);
    if (state !== undefined) state.timer = undefined;
    const entry = this.deps.store
      .outbox()
      .find((candidate) => candidate.client_message_id === clientMessageId);
    if (entry === undefined) return;
    this.deps.logger.info(
      { client_message_id: clientMessageId, attempts: state?.attempts },
      "send timed out; resending",
    );
    this.deps.events.emit("send_timeout", { clientMessageId, attempts: state?.attempts ?? 0 });
    if (this.open) this.attempt(entry);
  }

  private fail(entry: OutboxEntry, error: ErrorPayload): void {
    const id = entry.client_message_id;
    this.deps.store.removeFromOutbox(id);
    this.deps.store.save();
    this.forget(id);
    const failure = new ClientError(
      isErrorCode(error.code) ? error.code : "INTERNAL_ERROR",
      error.message,
      error.details,
    );
    this.deps.events.emit("send_failed", { clientMessageId: id, chatId: entry.chat_id, code: error.code });
    for (const waiter of this.waiters.get(id) ?? []) waiter.reject(failure);
    this.waiters.delete(id);
  }

  private forget(clientMessageId: string): void {
    const state = this.attempts.get(clientMessageId);
    if (state?.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
    this.attempts.delete(clientMessageId);
  }
}
