import * as grpc from "@grpc/grpc-js";
import { AppError, type ErrorCode, type ErrorDetails, isPublicErrorCode, toAppError } from "../errors.js";

/**
 * The gRPC wire form of an AppError (proto/messaging/v1/common.proto): a gRPC status plus the trailing
 * metadata below. Both directions live here so that what a server writes and what a client reads cannot
 * drift apart.
 */
const APP_ERROR_CODE_KEY = "app-error-code";
const APP_ERROR_DETAILS_KEY = "app-error-details";
const RING_VERSION_KEY = "ring-version";

/**
 * The codes that may appear in `app-error-code`: the protocol codes plus NOT_OWNER, the one internal code a
 * caller must see to refresh its ring (D5). CONFIG_INVALID is a start-up failure and travels as INTERNAL_ERROR.
 */
type WireCode = Exclude<ErrorCode, "CONFIG_INVALID">;

const STATUS_OF: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_MESSAGE: grpc.status.INVALID_ARGUMENT,
  MESSAGE_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  INVALID_CONTENT_TYPE: grpc.status.INVALID_ARGUMENT,
  UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
  FORBIDDEN: grpc.status.PERMISSION_DENIED,
  NOT_A_MEMBER: grpc.status.PERMISSION_DENIED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  SLOW_CONSUMER: grpc.status.RESOURCE_EXHAUSTED,
  SERVICE_UNAVAILABLE: grpc.status.UNAVAILABLE,
  BAD_REQUEST: grpc.status.INVALID_ARGUMENT,
  VALIDATION_ERROR: grpc.status.INVALID_ARGUMENT,
  INVALID_OPERATION: grpc.status.FAILED_PRECONDITION,
  CHAT_FULL: grpc.status.FAILED_PRECONDITION,
  DEVICE_MISMATCH: grpc.status.UNAUTHENTICATED,
  INVALID_OTP: grpc.status.UNAUTHENTICATED,
  INVALID_REFRESH_TOKEN: grpc.status.UNAUTHENTICATED,
  USER_NOT_FOUND: grpc.status.NOT_FOUND,
  CONFLICT: grpc.status.ABORTED,
  IDEMPOTENCY_KEY_REUSED: grpc.status.ALREADY_EXISTS,
  ALREADY_A_MEMBER: grpc.status.ALREADY_EXISTS,
  PAYLOAD_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  UNPROCESSABLE_ENTITY: grpc.status.FAILED_PRECONDITION,
  // The request was well formed but this node is not the chat's owner: retrying elsewhere can succeed.
  NOT_OWNER: grpc.status.FAILED_PRECONDITION,
  INTERNAL_ERROR: grpc.status.INTERNAL,
  CONFIG_INVALID: grpc.status.INTERNAL,
};

/** What is sent in place of a message that may not be shown (non-public errors). */
const GENERIC_MESSAGE: Readonly<Record<WireCode, string>> = {
  INVALID_MESSAGE: "invalid message",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  NOT_A_MEMBER: "not a member of this chat",
  NOT_FOUND: "not found",
  RATE_LIMITED: "rate limited",
  MESSAGE_TOO_LARGE: "message too large",
  INVALID_CONTENT_TYPE: "invalid content type",
  INTERNAL_ERROR: "internal error",
  SERVICE_UNAVAILABLE: "service unavailable",
  SLOW_CONSUMER: "slow consumer",
  BAD_REQUEST: "bad request",
  VALIDATION_ERROR: "invalid input",
  INVALID_OPERATION: "invalid operation",
  CHAT_FULL: "chat is full",
  DEVICE_MISMATCH: "device mismatch",
  INVALID_OTP: "invalid code",
  INVALID_REFRESH_TOKEN: "invalid refresh token",
  USER_NOT_FOUND: "user not found",
  CONFLICT: "conflict",
  IDEMPOTENCY_KEY_REUSED: "idempotency key reused",
  ALREADY_A_MEMBER: "already a member",
  PAYLOAD_TOO_LARGE: "payload too large",
  UNPROCESSABLE_ENTITY: "unprocessable entity",
  NOT_OWNER: "this node does not own the chat",
};

const isWireCode = (code: string): code is WireCode => isPublicErrorCode(code) || code === "NOT_OWNER";

/**
 * Any thrown value as a gRPC error for a server callback. The message is the AppError's own only when it is
 * public; details are sent only when they are client-safe (public errors) or are the point of the error
 * (NOT_OWNER's ring version). Causes never leave the process.
 */
export function toGrpcError(error: unknown): grpc.ServiceError {
  const appError = toAppError(error);
  const code: WireCode = appError.code === "CONFIG_INVALID" ? "INTERNAL_ERROR" : appError.code;
  const message = appError.public ? appError.message : GENERIC_MESSAGE[code];
  const metadata = new grpc.Metadata();
  metadata.set(APP_ERROR_CODE_KEY, code);
  const details = appError.public || code === "NOT_OWNER" ? appError.details : undefined;
  if (details !== undefined) {
    const json = asciiJson(details);
    if (json !== undefined) metadata.set(APP_ERROR_DETAILS_KEY, json);
    const ringVersion = details.ring_version;
    if (typeof ringVersion === "number" && Number.isSafeInteger(ringVersion)) {
      metadata.set(RING_VERSION_KEY, String(ringVersion));
    }
  }
  return Object.assign(new Error(message), { code: STATUS_OF[appError.code], details: message, metadata });
}

/** gRPC failures that mean "the peer could not answer now": the caller may retry, possibly elsewhere. */
const UNREACHABLE: ReadonlyMap<grpc.status, string> = new Map([
  [grpc.status.UNAVAILABLE, "the service could not be reached"],
  [grpc.status.DEADLINE_EXCEEDED, "the service did not answer in time"],
  [grpc.status.CANCELLED, "the call was cancelled"],
]);

/**
 * A failed call as the AppError the server meant. A failure without our metadata never came from our
 * handlers (connection refused, deadline, cancellation, a proxy, a protocol fault); its text may name hosts
 * and ports, so it becomes the cause and a fixed message is used.
 */
export function fromGrpcError(error: grpc.ServiceError): AppError {
  const code = firstString(error.metadata, APP_ERROR_CODE_KEY);
  if (code === undefined || !isWireCode(code)) {
    const unreachable = UNREACHABLE.get(error.code);
    if (unreachable !== undefined) return new AppError("SERVICE_UNAVAILABLE", unreachable, { cause: error });
    return new AppError("INTERNAL_ERROR", "the call failed", { cause: error, public: false });
  }
  const details = detailsOf(error.metadata, code);
  // The server already chose a text fit for clients (the public message or the generic one).
  return new AppError(
    code,
    error.details,
    details === undefined ? { cause: error } : { details, cause: error },
  );
}

function detailsOf(metadata: grpc.Metadata, code: WireCode): ErrorDetails | undefined {
  const parsed = parseObject(firstString(metadata, APP_ERROR_DETAILS_KEY));
  if (code !== "NOT_OWNER") return parsed;
  // `ring-version` is the documented carrier of the version; callers compare it as a number.
  const ringVersion = Number(firstString(metadata, RING_VERSION_KEY));
  if (!Number.isSafeInteger(ringVersion)) return parsed;
  return { ...parsed, ring_version: ringVersion };
}

function parseObject(text: string | undefined): ErrorDetails | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as ErrorDetails)
      : undefined;
  } catch {
    // Details are an aid, not the error: a garbled value must not hide the code and message.
    return undefined;
  }
}

function firstString(metadata: grpc.Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/**
 * JSON restricted to printable ASCII: grpc-js refuses any other byte in a non-binary metadata value, and
 * details may quote user text. The `\uXXXX` escapes parse back to the same string. Details that cannot be
 * serialized (a bigint, a cycle) are dropped rather than turning the error report itself into a failure.
 */
function asciiJson(value: ErrorDetails): string | undefined {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return undefined;
  }
  return json.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
