import { Inject, Injectable } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { RateLimitStore } from "../../runtime/ports/rate-limit-store.js";
import { CLOCK, RATE_LIMIT_STORE } from "../tokens.js";

/** Fixed-window counters of every limit chat management enforces (spec §1, §3.4). */
@Injectable()
export class RateLimiter {
  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly rateLimitStore: RateLimitStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Counts a hit; RATE_LIMITED with the spec's details when it exceeds `limit` in the window. */
  async enforce(key: string, limit: number, windowMs: number): Promise<RateLimitState> {
    const hit = await this.rateLimitStore.hit(key, windowMs);
    if (hit.count > limit) {
      throw rateLimited(limit, windowMs, hit.resetAt - this.clock.now());
    }
    return { limit, remaining: Math.max(0, limit - hit.count), resetAt: hit.resetAt };
  }
}

/** What `X-RateLimit-Limit/-Remaining/-Reset` report (spec §1). */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch ms. */
  readonly resetAt: number;
}

export function rateLimited(limit: number, windowMs: number, retryAfterMs: number): AppError {
  return new AppError("RATE_LIMITED", "too many requests; try again later", {
    details: {
      limit,
      window_seconds: Math.ceil(windowMs / 1000),
      retry_after_seconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    },
  });
}
