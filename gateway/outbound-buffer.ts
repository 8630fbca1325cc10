/**
 * A connection's outbound buffer for pushes (D9): frames wait here until the socket takes them, so a client
 * that stops reading fills this buffer, not the process's memory. Writes to the socket are bounded by
 * `writeWindowBytes` (bytes handed to the socket and not yet confirmed written), so what the kernel and the
 * socket hold is small and the buffer's fill tells how far behind the client is. `push` never drops silently:
 * a frame that does not fit is refused and the caller counts and signals it.
 */
export interface OutboundSocket {
  send(data: string, callback: (error?: Error) => void): void;
}

export interface OutboundLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  /** Bytes in flight to the socket at most; default 64 KiB. */
  readonly writeWindowBytes?: number;
}

export class OutboundBuffer {
  private readonly queue: string[] = [];
  private readonly queueBytes: number[] = [];
  /** Whether each queued frame counts toward `maxMessages` (pushes do; replies count their bytes only). */
  private readonly queueCounted: boolean[] = [];
  private queuedMessages = 0;
  private head = 0;
  private queuedBytes = 0;
  private inFlightMessages = 0;
  private inFlightBytes = 0;
  private closed = false;
  private readonly writeWindowBytes: number;
  private readonly onWritten: (bytes: number, counted: boolean) => (error?: Error) => void;

  constructor(
    private readonly socket: OutboundSocket,
    private readonly limits: OutboundLimits,
    /** Told after every change of size that came from the socket (a write finished). */
    private readonly onDrained: () => void,
  ) {
    this.writeWindowBytes = limits.writeWindowBytes ?? 64 * 1024;
    this.onWritten = (bytes, counted) => () => {
      if (counted) this.inFlightMessages--;
      this.inFlightBytes -= bytes;
      this.flush();
      this.onDrained();
    };
  }

  /** Messages (pushes) and bytes not yet written to the socket (queued or in flight). */
  get messages(): number {
    return this.queuedMessages + this.inFlightMessages;
  }

  get bytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  /** How full the buffer is, 0..1, by whichever limit is closer. */
  get fill(): number {
    return Math.max(this.messages / this.limits.maxMessages, this.bytes / this.limits.maxBytes);
  }

  /**
   * Queues a frame; false when it does not fit (the hard limit) or the buffer was closed. A frame larger than
   * the byte limit by itself (a sync page of 500 long messages) fits only an empty buffer, so a client that
   * reads gets it, and one that does not holds at most that one frame beyond the limit.
   */
  push(frame: string, bytes = Buffer.byteLength(frame, "utf8")): boolean {
    if (this.closed || this.messages + 1 > this.limits.maxMessages) return false;
    return this.enqueue(frame, bytes, true);
  }

  /**
   * Queues a reply to a request. Replies are already bounded in number by the requests in flight, so only
   * their bytes count: a client that stops reading but keeps asking (sync pages) reaches the byte limit.
   */
  reply(frame: string, bytes = Buffer.byteLength(frame, "utf8")): boolean {
    if (this.closed) return false;
    return this.enqueue(frame, bytes, false);
  }

  private enqueue(frame: string, bytes: number, counted: boolean): boolean {
    if (this.bytes + bytes > this.limits.maxBytes && this.bytes > 0) return false;
    this.queue.push(frame);
    this.queueBytes.push(bytes);
    this.queueCounted.push(counted);
    this.queuedBytes += bytes;
    if (counted) this.queuedMessages++;
    this.flush();
    return true;
  }

  /** Stops writing and forgets what is queued (the connection is going away; its client will sync). */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queueBytes.length = 0;
    this.queueCounted.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.queuedMessages = 0;
  }

  private flush(): void {
    while (!this.closed && this.head < this.queue.length && this.inFlightBytes < this.writeWindowBytes) {
      const frame = this.queue[this.head] as string;
      const bytes = this.queueBytes[this.head] as number;
      const counted = this.queueCounted[this.head] as boolean;
      this.head++;
      this.queuedBytes -= bytes;
      this.inFlightBytes += bytes;
      if (counted) {
        this.queuedMessages--;
        this.inFlightMessages++;
      }
      this.socket.send(frame, this.onWritten(bytes, counted));
    }
    if (this.head > 1024 || this.head === this.queue.length) {
      this.queue.splice(0, this.head);
      this.queueBytes.splice(0, this.head);
      this.queueCounted.splice(0, this.head);
      this.head = 0;
    }
  }
}
