import type { WebSocket } from "ws";
import type { GatewayLimits } from "./limits.js";
import { OutboundBuffer } from "./outbound-buffer.js";

/** How many recent (chat_id, sequence) pushes a connection remembers to drop duplicates (D4 allows them). */
const DEDUPE_WINDOW = 512;

export type PushOutcome = "delivered" | "duplicate" | "dropped";

/** What the channel tells its connection's machine about the buffer (the `flow` region's events). */
export type FlowSignal = "BUFFER_HIGH" | "BUFFER_RECOVERED" | "BUFFER_OVERFLOW";

export interface FlowListener {
  flow(signal: FlowSignal): void;
}

/**
 * A connection's way out for pushes and buffered replies (D9): the outbound buffer, the window of recent
 * pushes that drops duplicates, and the slow-consumer signals — the warning level crossed up (BUFFER_HIGH), the
 * resume level crossed down (BUFFER_RECOVERED), a frame that does not fit at all (BUFFER_OVERFLOW). The
 * connection's machine decides what a signal means. Made on a connection's first push, or its first reply that
 * finds the socket backed up: an idle connection never pays for one.
 */
export class PushChannel {
  private readonly buffer: OutboundBuffer;
  private seen: Set<string> | undefined;
  private slowSignalled = false;

  constructor(
    socket: WebSocket,
    private readonly limits: GatewayLimits,
    private readonly listener: FlowListener,
  ) {
    this.buffer = new OutboundBuffer(
      socket,
      { maxMessages: limits.outboundMaxMessages, maxBytes: limits.outboundMaxBytes },
      () => this.checkLevels(),
    );
  }

  /** Messages and bytes not yet written, and the fill ratio of the fuller of the two limits. */
  get messages(): number {
    return this.buffer.messages;
  }

  get bytes(): number {
    return this.buffer.bytes;
  }

  get fill(): number {
    return this.buffer.fill;
  }

  /**
   * Queues an encoded `message` push. `key` is `chat_id:sequence`: a push this connection already had is
   * skipped (consumers dedupe by it; duplicates after a crash are allowed upstream, D4).
   */
  push(frame: string, bytes: number, key: string): PushOutcome {
    this.seen ??= new Set();
    if (this.seen.has(key)) return "duplicate";
    if (!this.buffer.push(frame, bytes)) {
      // Never a silent drop: the client is told (connection_closing{slow_consumer}) and heals by sync.
      this.listener.flow("BUFFER_OVERFLOW");
      return "dropped";
    }
    this.seen.add(key);
    if (this.seen.size > DEDUPE_WINDOW) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.checkLevels();
    return "delivered";
  }

  /**
   * Queues an encoded ephemeral frame (a typing indicator), unless the buffer is above `ephemeralDropRatio`:
   * such frames are dropped first under backpressure, and silently (they are worth nothing late). One counts
   * its bytes but no message, and is queued only well below the warning level, so it never brings a
   * connection nearer its slow-consumer close; no flow signal is judged for it.
   */
  pushEphemeral(frame: string, bytes: number): boolean {
    if (this.buffer.fill >= this.limits.ephemeralDropRatio) return false;
    return this.buffer.reply(frame, bytes);
  }

  /**
   * Queues an encoded reply. Only the hard limit is judged here: a sync page alone may exceed the warning
   * level while a reading client takes it; the warning level is judged on pushes and as writes finish.
   */
  reply(frame: string): void {
    if (!this.buffer.reply(frame)) this.listener.flow("BUFFER_OVERFLOW");
  }

  /** Drops what is still queued (the connection is closing or gone). */
  close(): void {
    this.buffer.close();
  }

  private checkLevels(): void {
    const fill = this.buffer.fill;
    const { slowConsumerRatio, slowConsumerResumeRatio } = this.limits;
    if (!this.slowSignalled && fill >= slowConsumerRatio) {
      this.slowSignalled = true;
      this.listener.flow("BUFFER_HIGH");
    } else if (this.slowSignalled && fill < slowConsumerResumeRatio) {
      this.slowSignalled = false;
      this.listener.flow("BUFFER_RECOVERED");
    }
  }
}
