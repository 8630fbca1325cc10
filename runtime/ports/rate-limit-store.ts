/**
 * Fixed-window request counters (table `rate_limits`; spec §3.4 keeps them in Redis, here they share the
 * durable store so a limit holds across processes without another engine). Each hit is one atomic
 * increment of the counter of the current window.
 */
export interface RateLimitHit {
  /** Hits in the current window, this one included. */
  readonly count: number;
  /** Epoch ms at which the window ends. */
  readonly resetAt: number;
}

export interface RateLimitStore {
  /** Counts one hit of `key` in the window of length `windowMs` that contains the store clock's now. */
  hit(key: string, windowMs: number): Promise<RateLimitHit>;
}

/** The window containing `now`: windows start at multiples of their length. */
export function windowOf(now: number, windowMs: number): { index: number; resetAt: number } {
  const index = Math.floor(now / windowMs);
  return { index, resetAt: (index + 1) * windowMs };
}
