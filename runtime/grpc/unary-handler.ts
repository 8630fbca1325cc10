import type * as grpc from "@grpc/grpc-js";
import { toAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { TRACEPARENT } from "../tracing/propagation.js";
import { toGrpcError } from "./errors.js";

/** What a handler learns of its call besides the request. */
export interface CallContext {
  /** The caller's `traceparent` metadata (W3C), when it sent one; checked where a span is made from it. */
  readonly traceparent: string | undefined;
  /** The request metadata, for service-specific entries. */
  readonly metadata: grpc.Metadata;
}

export interface UnaryHandlerOptions {
  /** Service name for log lines: "ingest", "gateway". */
  readonly service: string;
  /** Receives failures whose cause stays on this side of the wire (non-public errors); absent = not logged. */
  readonly logger?: Pick<Logger, "error">;
  /** Non-public codes that are routing, not faults (NOT_OWNER), and are not logged. */
  readonly quietCodes?: readonly string[];
}

/**
 * The one server-side wrapper of our unary handlers: reads the call's trace context, runs the handler and
 * turns any failure into the gRPC wire form of its AppError (./errors.ts). A public error reaches the caller
 * whole; the text and cause of any other would be lost without the log line written here.
 */
export function unaryHandler<Request, Response>(
  method: string,
  options: UnaryHandlerOptions,
  handle: (request: Request, context: CallContext) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const [traceparent] = call.metadata.get(TRACEPARENT);
    const context: CallContext = {
      traceparent: typeof traceparent === "string" ? traceparent : undefined,
      metadata: call.metadata,
    };
    let pending: Promise<Response>;
    try {
      pending = handle(call.request, context);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => callback(null, response),
      (error: unknown) => {
        const appError = toAppError(error);
        if (!appError.public && !options.quietCodes?.includes(appError.code)) {
          options.logger?.error({ err: appError, method }, `${options.service} call failed`);
        }
        callback(toGrpcError(appError));
      },
    );
  };
}
