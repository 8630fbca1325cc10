import { type ArgumentsHost, Catch, HttpException, Inject, type RpcExceptionFilter } from "@nestjs/common";
import { type Observable, throwError } from "rxjs";
import { AppError } from "../../runtime/errors.js";
import { toGrpcError } from "../../runtime/grpc/errors.js";
import { CHATMGMT_CONTEXT, type ChatMgmtContext } from "../context.js";

/** Every failure of a ChatService handler as a gRPC status + `app-error-*` metadata (common.proto). */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter {
  constructor(@Inject(CHATMGMT_CONTEXT) private readonly ctx: ChatMgmtContext) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const error =
      exception instanceof HttpException
        ? new AppError("BAD_REQUEST", exception.message, { cause: exception })
        : exception;
    if (!(error instanceof AppError) || !error.public)
      this.ctx.logger.error({ err: exception }, "grpc call failed");
    return throwError(() => toGrpcError(error));
  }
}
