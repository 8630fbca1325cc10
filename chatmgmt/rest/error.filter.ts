import type { ServerResponse } from "node:http";
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from "@nestjs/common";
import { AppError, toAppError } from "../../runtime/errors.js";
import { sendError } from "../../runtime/http/json.js";
import type { Logger } from "../../runtime/logger.js";
import type { RestRequest } from "./request.js";

/**
 * Every failure of a REST handler as the one error envelope (runtime/http/json.ts): AppErrors keep their
 * code; Nest's own exceptions (an unknown route) map to the nearest code; anything else is an internal
 * error whose cause is logged, never sent. 429s carry `Retry-After`.
 */
@Catch()
export class RestErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<RestRequest>();
    const response = http.getResponse<ServerResponse>();
    const error = this.toAppError(exception);
    if (!error.public || error.httpStatus >= 500) {
      this.logger.error({ err: exception, request_id: request.requestId }, "request failed");
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const retryAfter = error.details?.retry_after_seconds;
    if (error.code === "RATE_LIMITED" && typeof retryAfter === "number") {
      response.setHeader("retry-after", String(retryAfter));
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
