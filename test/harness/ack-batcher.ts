import type { Clock, TimerHandle } from "../../runtime/clock.js";

/**
 * AK-02/AK-06: acks are batched — flushed when `batchSize` newly covered messages are pending or
 * `flushIntervalMs` after the first of them, whichever comes first. The flush itself (one cumulative ack per
 * chat, AK-01) is the caller's; this only decides when.
 */
export class AckBatcher {
  private pending = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly options: { readonly batchSize: number; readonly flushIntervalMs: number },
    private readonly flush: () => void,
  ) {}

  /** `count` more messages became ackable. */
  add(count: number): void {
    if (count <= 0) return;
    this.pending += count;
    if (this.pending >= this.options.batchSize) this.flushNow();
    else this.timer ??= this.clock.setTimeout(() => this.flushNow(), this.options.flushIntervalMs);
  }

  flushNow(): void {
    this.cancel();
    this.flush();
  }

  /** Forgets the timer; what was pending stays covered by the store's cursors and goes out with the next flush. */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = 0;
  }
}
