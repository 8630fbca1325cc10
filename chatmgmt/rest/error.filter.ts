import type { ServerResponse } from "node:http";
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import { AppError, toAppError } from "../../runtime/errors.js";
import { sendError } from "../../runtime/http/json.js";
import type { Logger } from "../../runtime/logger.js";
import { CLOCK, LOGGER } from "../tokens.js";
import { ClientIpLimits, hasRateLimitHeaders, setRateLimitedHeaders } from "./rate-limit-headers.js";
import type { RestRequest } from "./request.js";

/**
 * Every failure of a REST handler as the one error envelope (runtime/http/json.ts): AppErrors keep their
 * code; Nest's own exceptions (an unknown route) map to the nearest code; anything else is an internal
 * error whose cause is logged, never sent. 429s carry `Retry-After` and report the limit that was hit in
 * `X-RateLimit-*`; an answer no limit has reported on yet (a 401 from the auth guard, an unknown path) is
 * counted against the client's IP first, so that every response carries the headers (spec §1).
 */
@Catch()
export class RestErrorFilter implements ExceptionFilter {
  constructor(
    @Inject(ClientIpLimits) private readonly clientIpLimits: ClientIpLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const request = http.getRequest<RestRequest>();
    const response = http.getResponse<ServerResponse>();
    let error = this.toAppError(exception);
    if (!error.public || error.httpStatus >= 500) {
      this.logger.error({ err: exception, request_id: request.requestId }, "request failed");
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (error.code === "RATE_LIMITED") {
      setRateLimitedHeaders(response, error, this.clock.now());
    } else if (!hasRateLimitHeaders(response)) {
      error = await this.clientIpLimits.limitUnidentified(request, response, error);
      if (response.headersSent) {
        response.destroy();
        return;
      }
    }
    sendError(response, error, request.requestId ?? "");
  }

  private toAppError(exception: unknown): AppError {
    if (!(exception instanceof HttpException)) return toAppError(exception);
    const status = exception.getStatus();
    if (status === 404) return new AppError("NOT_FOUND", "no such endpoint");
    if (status === 405) return new AppError("BAD_REQUEST", "method not allowed");
    if (status === 413) return new AppError("PAYLOAD_TOO_LARGE", "request body too large");
    if (status >= 400 && status < 500) return new AppError("BAD_REQUEST", exception.message);
    return toAppError(exception);
  }
}
