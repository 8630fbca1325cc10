import { type ArgumentsHost, Catch, HttpException, Inject, type RpcExceptionFilter } from "@nestjs/common";
import { type Observable, throwError } from "rxjs";
import { AppError } from "../../runtime/errors.js";
import { toGrpcError } from "../../runtime/grpc/errors.js";
import type { Logger } from "../../runtime/logger.js";
import { LOGGER } from "../tokens.js";

/** Every failure of a ChatService handler as a gRPC status + `app-error-*` metadata (common.proto). */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const error =
      exception instanceof HttpException
        ? new AppError("BAD_REQUEST", exception.message, { cause: exception })
        : exception;
    if (!(error instanceof AppError) || !error.public)
      this.logger.error({ err: exception }, "grpc call failed");
    return throwError(() => toGrpcError(error));
  }
}
