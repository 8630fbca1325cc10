import type { Clock } from "../runtime/clock.js";

/**
 * A token bucket on the injected clock: `ratePerSecond` tokens a second up to `burst`. `take()` answers 0 when
 * a token was taken, else the milliseconds until one is available (for `retry_after_seconds`).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  take(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  /** Whether the bucket is full again, i.e. forgetting it changes nothing. */
  isFull(): boolean {
    const now = this.clock.now();
    return this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000 >= this.burst;
  }
}

/** Counts events in a sliding window: `record()` answers how many fell within the last `windowMs`. */
export class WindowCounter {
  private readonly times: number[] = [];

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly windowMs: number,
    /** Only this many are ever kept: the answer saturates there, which is all a threshold needs. */
    private readonly cap: number,
  ) {}

  record(): number {
    const now = this.clock.now();
    this.times.push(now);
    while (
      this.times.length > 0 &&
      ((this.times[0] ?? now) <= now - this.windowMs || this.times.length > this.cap)
    ) {
      this.times.shift();
    }
    return this.times.length;
  }
}
