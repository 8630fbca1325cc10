import { type CanActivate, type ExecutionContext, Inject, Injectable } from "@nestjs/common";
import { enforceLimit } from "../auth/rate-limits.js";
import { authenticate } from "../auth/sessions.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";
import { type HeaderTarget, setRateLimitHeaders } from "./rate-limit-headers.js";
import type { RestRequest } from "./request.js";

/**
 * Bearer access token of a live session; the caller is attached to the request. Then the per-user request
 * limit of spec §1 (reads and writes counted apart), reported in `X-RateLimit-*` headers. A request that
 * fails authentication is counted against its IP instead, by the error filter.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<RestRequest>();
    const response = http.getResponse<HeaderTarget>();
    request.caller = await authenticate(this.ctx, request.headers.authorization);
    const read = request.method === "GET" || request.method === "HEAD";
    const { limits } = this.ctx;
    // Over the limit, enforceLimit throws RATE_LIMITED, whose headers the error filter writes.
    const state = await enforceLimit(
      this.ctx,
      `rest_${read ? "read" : "write"}:user:${request.caller.userId}`,
      read ? limits.restReadsPerMinute : limits.restWritesPerMinute,
      60_000,
    );
    setRateLimitHeaders(response, state);
    return true;
  }
}
