import type { IncomingMessage } from "node:http";
import { Inject, Injectable } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { type AppError, isAppError } from "../../runtime/errors.js";
import type { Logger } from "../../runtime/logger.js";
import { RateLimiter, type RateLimitState } from "../auth/rate-limits.js";
import { sha256Hex } from "../auth/secrets.js";
import type { AuthLimits } from "../context.js";
import { AUTH_LIMITS, CLOCK, CONFIG, LOGGER } from "../tokens.js";
import { clientIp } from "./request.js";

/** Where the headers go: node's ServerResponse and express's response both fit. */
export interface HeaderTarget {
  setHeader(name: string, value: string): unknown;
  hasHeader(name: string): boolean;
}

/** Spec §1: every response reports the limit that applied to it; `Reset` is in Unix seconds. */
export function setRateLimitHeaders(response: HeaderTarget, state: RateLimitState): void {
  response.setHeader("x-ratelimit-limit", String(state.limit));
  response.setHeader("x-ratelimit-remaining", String(state.remaining));
  response.setHeader("x-ratelimit-reset", String(Math.ceil(state.resetAt / 1000)));
}

export const hasRateLimitHeaders = (response: HeaderTarget): boolean =>
  response.hasHeader("x-ratelimit-limit");

/** A RATE_LIMITED error's own limit (its `details`), nothing left, reset when the client may retry. */
export function setRateLimitedHeaders(response: HeaderTarget, error: AppError, nowMs: number): void {
  const limit = error.details?.limit;
  const retryAfterS = error.details?.retry_after_seconds;
  if (typeof limit !== "number" || typeof retryAfterS !== "number") return;
  response.setHeader("retry-after", String(retryAfterS));
  setRateLimitHeaders(response, { limit, remaining: 0, resetAt: nowMs + retryAfterS * 1000 });
}

/**
 * The per-IP limits of spec §1 for requests no bearer token identifies: `otp_request` is request-otp's own
 * (OTP_REQUESTS_PER_IP per OTP_REQUEST_WINDOW_S, key `otp_req:ip:{ip_hash}` of §3.4); `unauthenticated` is
 * the generous one of every other such request (REST_UNAUTHENTICATED_PER_MINUTE).
 */
export type ClientIpLimit = "otp_request" | "unauthenticated";

/** The per-IP limits of requests no bearer token identifies, reported in `X-RateLimit-*`. */
@Injectable()
export class ClientIpLimits {
  constructor(
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Counts one hit of the client's IP against `kind` and reports it in the `X-RateLimit-*` headers; over the
   * limit it throws RATE_LIMITED (whose headers the error filter writes).
   */
  async limit(request: IncomingMessage, response: HeaderTarget, kind: ClientIpLimit): Promise<void> {
    const { limits } = this;
    const ipHash = sha256Hex(clientIp(request, this.config.trustedProxies));
    const state =
      kind === "otp_request"
        ? await this.rateLimiter.enforce(
            `otp_req:ip:${ipHash}`,
            limits.otpRequestsPerIp,
            limits.otpRequestWindowMs,
          )
        : await this.rateLimiter.enforce(
            `rest_anon:ip:${ipHash}`,
            limits.restUnauthenticatedPerMinute,
            60_000,
          );
    setRateLimitHeaders(response, state);
  }

  /**
   * For an answer no limit has reported on yet (a 401 before the per-user limit, an unknown path, a body
   * refused before routing): counts the generous per-IP limit and sets its headers. Returns the error to send:
   * `error` itself, or RATE_LIMITED when this client is over the limit. The counter's own failure does not
   * hide the answer: it is logged and the response goes out without the headers.
   */
  async limitUnidentified(
    request: IncomingMessage,
    response: HeaderTarget,
    error: AppError,
  ): Promise<AppError> {
    try {
      await this.limit(request, response, "unauthenticated");
      return error;
    } catch (limitError) {
      if (isAppError(limitError) && limitError.code === "RATE_LIMITED") {
        setRateLimitedHeaders(response, limitError, this.clock.now());
        return limitError;
      }
      this.logger.warn({ err: limitError }, "the per-IP request limit could not be counted");
      return error;
    }
  }
}
