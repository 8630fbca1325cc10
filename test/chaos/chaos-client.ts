import { randomUUID } from "node:crypto";
import WebSocket from "ws";

/** What a chaos client records: the checker reads these logs, never the client's internals. */
export interface AckRecord {
  readonly chatId: string;
  readonly clientMessageId: string;
  readonly content: string;
  readonly sequence: number;
  readonly messageId: string;
}

export interface ReceivedMessage {
  readonly chatId: string;
  readonly sequence: number;
  readonly messageId: string;
  readonly content: string;
  readonly senderId: string;
}

interface Pending {
  readonly chatId: string;
  readonly clientMessageId: string;
  readonly content: string;
  readonly resolve: (ack: AckRecord | undefined) => void;
  requestId: string;
}

/**
 * A client as the client contract asks for, reduced to what a chaos run needs: it reconnects with backoff
 * whenever its socket goes (through the entry URL, so to any gateway), retries every unacknowledged send
 * with the same client_message_id, acknowledges what it receives cumulatively, and logs every ack and every
 * message it saw (pushed live or synced).
 */
export class ChaosClient {
  readonly acks: AckRecord[] = [];
  readonly received = new Map<string, Map<number, ReceivedMessage>>();
  /** Messages that arrived as live pushes (the rest came through sync). */
  livePushes = 0;
  reconnects = 0;
  sendAttempts = 0;
  private socket: WebSocket | undefined;
  private open = false;
  private stopped = false;
  private readonly pending = new Map<string, Pending>();
  private readonly acked = new Map<string, number>();
  private readonly waiters = new Map<string, (frame: Record<string, unknown>) => void>();

  constructor(
    readonly userId: string,
    private readonly deviceId: string,
    private readonly baseUrl: string,
    private readonly token: () => string,
    private readonly random: () => number,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
    for (const pending of this.pending.values()) pending.resolve(undefined);
  }

  /**
   * Sends one message and waits for its ack, retrying with the same client_message_id after every timeout or
   * lost connection, for at most `budgetMs`. Resolves undefined when no ack came in time (allowed: such a
   * message must then be stored once or not at all).
   */
  async send(
    chatId: string,
    content: string,
    budgetMs: number,
    attemptMs = 4_000,
  ): Promise<AckRecord | undefined> {
    const clientMessageId = randomUUID();
    const deadline = Date.now() + budgetMs;
    while (Date.now() < deadline && !this.stopped) {
      this.sendAttempts++;
      const ack = await new Promise<AckRecord | undefined>((resolve) => {
        const pending: Pending = { chatId, clientMessageId, content, resolve, requestId: randomUUID() };
        this.pending.set(clientMessageId, pending);
        const timer = setTimeout(
          () => resolve(undefined),
          Math.min(attemptMs, Math.max(1, deadline - Date.now())),
        );
        const wrapped = (value: AckRecord | undefined) => {
          clearTimeout(timer);
          resolve(value);
        };
        this.pending.set(clientMessageId, { ...pending, resolve: wrapped });
        this.transmit(this.pending.get(clientMessageId) as Pending);
      });
      this.pending.delete(clientMessageId);
      if (ack !== undefined) {
        this.acks.push(ack);
        return ack;
      }
      await sleep(200 + this.random() * 300);
    }
    return undefined;
  }

  /** Every message of a chat from sequence 1, through sync (after the run, to converge). */
  async syncChat(chatId: string): Promise<void> {
    for (let round = 0; round < 200; round++) {
      const after = this.highestContiguous(chatId);
      const page = await this.request("sync_request", {
        chat_id: chatId,
        last_acked_sequence: after,
        limit: 500,
      });
      if (page.type !== "sync_response") throw new Error(`sync refused: ${JSON.stringify(page.payload)}`);
      const payload = page.payload as { messages: Array<Record<string, unknown>>; has_more: boolean };
      for (const message of payload.messages) this.record({ ...message, chat_id: chatId }, false);
      if (!payload.has_more) return;
    }
  }

  messagesOf(chatId: string): ReceivedMessage[] {
    return [...(this.received.get(chatId)?.values() ?? [])].sort((a, b) => a.sequence - b.sequence);
  }

  private highestContiguous(chatId: string): number {
    const seen = this.received.get(chatId);
    let n = 0;
    while (seen?.has(n + 1)) n++;
    return n;
  }

  private transmit(pending: Pending): void {
    if (!this.open || this.socket === undefined) return; // sent again after the reconnect
    pending.requestId = randomUUID();
    this.socket.send(
      JSON.stringify({
        type: "send_message",
        request_id: pending.requestId,
        payload: {
          chat_id: pending.chatId,
          client_message_id: pending.clientMessageId,
          content: pending.content,
          content_type: "text/plain",
        },
      }),
    );
  }

  /** A request with its answer, retried (after reconnects, breakers, rate limits) for up to `budgetMs`. */
  private async request(type: string, payload: Record<string, unknown>, budgetMs = 90_000) {
    const deadline = Date.now() + budgetMs;
    let last = "no answer";
    while (Date.now() < deadline) {
      while (!this.open && !this.stopped && Date.now() < deadline) await sleep(100);
      const requestId = randomUUID();
      const answer = await new Promise<Record<string, unknown> | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.waiters.delete(requestId);
          resolve(undefined);
        }, 5_000);
        this.waiters.set(requestId, (frame) => {
          clearTimeout(timer);
          resolve(frame);
        });
        this.socket?.send(JSON.stringify({ type, request_id: requestId, payload }));
      });
      if (answer !== undefined && !(answer.type === "error" && isRetryable(answer))) return answer;
      last = answer === undefined ? "no answer within 5 s" : JSON.stringify(answer.payload);
      await sleep(500 + this.random() * 500);
    }
    throw new Error(`${type} for ${this.userId} failed for ${budgetMs / 1000} s; last: ${last}`);
  }

  private connect(): Promise<void> {
    return new Promise((resolve) => {
      const url = `${this.baseUrl.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(this.token())}&device_id=${this.deviceId}`;
      const socket = new WebSocket(url);
      this.socket = socket;
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      socket.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        this.onFrame(frame);
        if (frame.type === "connection_established" && this.socket === socket) {
          this.open = true;
          // Resend what was in flight when the last connection went (same client_message_id).
          for (const pending of this.pending.values()) this.transmit(pending);
          settle();
        }
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        settle();
        // Only the current socket's loss calls for a reconnect: an older one closing (evicted as a
        // duplicate_connection by our own reconnect elsewhere) must not start a second loop, or the two
        // connections of one device evict each other forever.
        if (this.socket !== socket) return;
        this.open = false;
        if (this.stopped) return;
        this.reconnects++;
        // Backoff of the contract (1 s doubling, jittered), kept short: chaos wants many reconnects.
        setTimeout(() => void this.connect(), 300 + this.random() * 700);
      });
    });
  }

  private onFrame(frame: Record<string, unknown>): void {
    const payload = (frame.payload ?? {}) as Record<string, unknown>;
    const requestId = frame.request_id as string | undefined;
    if (requestId !== undefined) {
      const waiter = this.waiters.get(requestId);
      if (waiter !== undefined) {
        this.waiters.delete(requestId);
        waiter(frame);
        return;
      }
    }
    switch (frame.type) {
      case "send_message_ack": {
        const pending = this.pending.get(payload.client_message_id as string);
        if (pending === undefined) return;
        pending.resolve({
          chatId: pending.chatId,
          clientMessageId: pending.clientMessageId,
          content: pending.content,
          sequence: payload.sequence as number,
          messageId: payload.message_id as string,
        });
        return;
      }
      case "message":
        this.record(payload, true);
        return;
      case "error": {
        // A refused send (the ingest breaker is open, an owner is moving): retried after a pause.
        for (const pending of this.pending.values()) {
          if (pending.requestId === requestId) pending.resolve(undefined);
        }
        return;
      }
      default:
        return;
    }
  }

  private record(message: Record<string, unknown>, live: boolean): void {
    const chatId = message.chat_id as string;
    const sequence = message.sequence as number;
    let chat = this.received.get(chatId);
    if (chat === undefined) {
      chat = new Map();
      this.received.set(chatId, chat);
    }
    if (!chat.has(sequence) && live) this.livePushes++;
    chat.set(sequence, {
      chatId,
      sequence,
      messageId: message.message_id as string,
      content: message.content as string,
      senderId: message.sender_id as string,
    });
    // Cumulative ack of what is contiguous (D3: never skipping a message).
    const contiguous = this.highestContiguous(chatId);
    if (this.open && contiguous > (this.acked.get(chatId) ?? 0)) {
      this.acked.set(chatId, contiguous);
      this.socket?.send(
        JSON.stringify({ type: "ack", payload: { chat_id: chatId, last_acked_sequence: contiguous } }),
      );
    }
  }
}

const isRetryable = (frame: Record<string, unknown>): boolean => {
  const code = (frame.payload as { code?: string } | undefined)?.code;
  return code === "SERVICE_UNAVAILABLE" || code === "RATE_LIMITED" || code === "INTERNAL_ERROR";
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
