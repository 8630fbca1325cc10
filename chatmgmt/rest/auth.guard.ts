import { type CanActivate, type ExecutionContext, Inject, Injectable } from "@nestjs/common";
import { RateLimiter } from "../auth/rate-limits.js";
import { Sessions } from "../auth/sessions.js";
import type { AuthLimits } from "../context.js";
import { AUTH_LIMITS } from "../tokens.js";
import { type HeaderTarget, setRateLimitHeaders } from "./rate-limit-headers.js";
import type { RestRequest } from "./request.js";

/**
 * Bearer access token of a live session; the caller is attached to the request. Then the per-user request
 * limit of spec §1 (reads and writes counted apart), reported in `X-RateLimit-*` headers. A request that
 * fails authentication is counted against its IP instead, by the error filter.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Sessions) private readonly sessions: Sessions,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<RestRequest>();
    const response = http.getResponse<HeaderTarget>();
    request.caller = await this.sessions.authenticate(request.headers.authorization);
    const read = request.method === "GET" || request.method === "HEAD";
    const { limits } = this;
    // Over the limit, enforceLimit throws RATE_LIMITED, whose headers the error filter writes.
    const state = await this.rateLimiter.enforce(
      `rest_${read ? "read" : "write"}:user:${request.caller.userId}`,
      read ? limits.restReadsPerMinute : limits.restWritesPerMinute,
      60_000,
    );
    setRateLimitHeaders(response, state);
    return true;
  }
}
