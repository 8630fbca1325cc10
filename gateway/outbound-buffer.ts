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
  private head = 0;
  private queuedBytes = 0;
  private inFlightMessages = 0;
  private inFlightBytes = 0;
  private closed = false;
  private readonly writeWindowBytes: number;
  private readonly onWritten: (bytes: number) => (error?: Error) => void;

  constructor(
    private readonly socket: OutboundSocket,
    private readonly limits: OutboundLimits,
    /** Told after every change of size that came from the socket (a write finished). */
    private readonly onDrained: () => void,
  ) {
    this.writeWindowBytes = limits.writeWindowBytes ?? 64 * 1024;
    this.onWritten = (bytes) => () => {
      this.inFlightMessages--;
      this.inFlightBytes -= bytes;
      this.flush();
      this.onDrained();
    };
  }

  /** Messages and bytes not yet written to the socket (queued or in flight). */
  get messages(): number {
    return this.queue.length - this.head + this.inFlightMessages;
  }

  get bytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  /** How full the buffer is, 0..1, by whichever limit is closer. */
  get fill(): number {
    return Math.max(this.messages / this.limits.maxMessages, this.bytes / this.limits.maxBytes);
  }

  /** Queues a frame; false when it does not fit (the hard limit) or the buffer was closed. */
  push(frame: string, bytes = Buffer.byteLength(frame, "utf8")): boolean {
    if (this.closed) return false;
    if (this.messages + 1 > this.limits.maxMessages || this.bytes + bytes > this.limits.maxBytes)
      return false;
    this.queue.push(frame);
    this.queueBytes.push(bytes);
    this.queuedBytes += bytes;
    this.flush();
    return true;
  }

  /** Stops writing and forgets what is queued (the connection is going away; its client will sync). */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queueBytes.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private flush(): void {
    while (!this.closed && this.head < this.queue.length && this.inFlightBytes < this.writeWindowBytes) {
      const frame = this.queue[this.head] as string;
      const bytes = this.queueBytes[this.head] as number;
      this.head++;
      this.queuedBytes -= bytes;
      this.inFlightMessages++;
      this.inFlightBytes += bytes;
      this.socket.send(frame, this.onWritten(bytes));
    }
    if (this.head > 1024 || this.head === this.queue.length) {
      this.queue.splice(0, this.head);
      this.queueBytes.splice(0, this.head);
      this.head = 0;
    }
  }
}
