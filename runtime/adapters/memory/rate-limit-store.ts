import type { Clock } from "../../clock.js";
import { type RateLimitHit, type RateLimitStore, windowOf } from "../../ports/rate-limit-store.js";

/** Rate-limit counters in memory, for unit tests and single-process use; same semantics as DynamoDB's. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly options: { readonly clock: Pick<Clock, "now"> }) {}

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const now = this.options.clock.now();
    const window = windowOf(now, windowMs);
    for (const [name, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(name);
    const name = `${key}#${window.index}`;
    const counter = this.counters.get(name) ?? { count: 0, resetAt: window.resetAt };
    counter.count += 1;
    this.counters.set(name, counter);
    return { count: counter.count, resetAt: counter.resetAt };
  }
}
