import { AppError } from "../../runtime/errors.js";
import type { ChatMgmtContext } from "../context.js";

/** Counts a hit; RATE_LIMITED with the spec's details when it exceeds `limit` in the window. */
export async function enforceLimit(
  ctx: ChatMgmtContext,
  key: string,
  limit: number,
  windowMs: number,
): Promise<RateLimitState> {
  const hit = await ctx.rateLimitStore.hit(key, windowMs);
  if (hit.count > limit) {
    throw rateLimited(limit, windowMs, hit.resetAt - ctx.clock.now());
  }
  return { limit, remaining: Math.max(0, limit - hit.count), resetAt: hit.resetAt };
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
