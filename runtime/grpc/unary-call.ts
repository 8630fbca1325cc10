import * as grpc from "@grpc/grpc-js";
import { AppError } from "../errors.js";
import { TRACEPARENT } from "../tracing/propagation.js";
import { fromGrpcError } from "./errors.js";
import { addInternalToken } from "./internal-token.js";

/** What one unary call of a client of ours needs besides its request. */
export interface UnaryCallSpec {
  /** Who answers, for error texts: "the ingest node", "the gateway". */
  readonly peer: string;
  /** The client was closed: grpc-js would throw synchronously, callers only ever see AppErrors. */
  readonly closed: boolean;
  /** Budget of the call, connecting included. */
  readonly deadlineMs: number;
  /** The caller's trace context, sent as `traceparent` metadata (W3C); absent = none. */
  readonly traceparent?: string | undefined;
  /** Further request metadata of the call, if any. */
  readonly metadata?: grpc.Metadata;
  /** The deployment's internal token (./internal-token.ts), sent with every call; absent = none. */
  readonly internalToken?: string | undefined;
}

/**
 * One unary call of an internal client (IngestService, GatewayService): the deadline, the request metadata
 * (the internal token, and the trace context, spec §3), and every failure as the AppError the server meant (./errors.ts), so
 * both clients behave alike and callers never handle a raw grpc error.
 */
export function unaryCall<Response>(
  spec: UnaryCallSpec,
  invoke: (
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<Response>,
  ) => void,
): Promise<Response> {
  if (spec.closed) {
    return Promise.reject(new AppError("SERVICE_UNAVAILABLE", `the client of ${spec.peer} is closed`));
  }
  const metadata = addInternalToken(spec.metadata ?? new grpc.Metadata(), spec.internalToken);
  if (spec.traceparent !== undefined) metadata.set(TRACEPARENT, spec.traceparent);
  return new Promise((resolve, reject) => {
    invoke(metadata, { deadline: Date.now() + spec.deadlineMs }, (error, response) => {
      if (error) reject(fromGrpcError(error));
      else if (response === undefined) {
        reject(new AppError("INTERNAL_ERROR", `${spec.peer} sent no response`, { public: false }));
      } else resolve(response);
    });
  });
}
