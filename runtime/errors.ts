/**
 * The one error taxonomy. Every failure that crosses a boundary is an AppError whose `code` is one of the
 * protocol's error codes (spec/protocol.md §6) or an internal code that never reaches a client. Each edge
 * maps it to its own wire form: WebSocket `error` frames, the REST error envelope, gRPC status + metadata.
 */
export const PROTOCOL_ERROR_CODES = [
  "INVALID_MESSAGE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_A_MEMBER",
  "NOT_FOUND",
  "RATE_LIMITED",
  "MESSAGE_TOO_LARGE",
  "INVALID_CONTENT_TYPE",
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
  "SLOW_CONSUMER",
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/**
 * Codes of the REST API only (spec/rest-data-auth-chats.md §1): public like the protocol's codes, but never
 * sent in a WebSocket frame.
 */
const REST_ERROR_CODES = [
  "BAD_REQUEST",
  "VALIDATION_ERROR",
  "INVALID_OPERATION",
  "CHAT_FULL",
  "DEVICE_MISMATCH",
  "INVALID_OTP",
  "INVALID_REFRESH_TOKEN",
  "USER_NOT_FOUND",
  "CONFLICT",
  "IDEMPOTENCY_KEY_REUSED",
  "ALREADY_A_MEMBER",
  "PAYLOAD_TOO_LARGE",
  "UNPROCESSABLE_ENTITY",
] as const;
export type RestErrorCode = (typeof REST_ERROR_CODES)[number];

/**
 * Codes that stay between our own processes. `NOT_OWNER`: an ingest node was asked about a chat it does not
 * own (D5); callers refresh the ring and retry. `CONFIG_INVALID`: start-up refused a configuration.
 */
const INTERNAL_ERROR_CODES = ["NOT_OWNER", "CONFIG_INVALID"] as const;
export type InternalErrorCode = (typeof INTERNAL_ERROR_CODES)[number];

export type ErrorCode = ProtocolErrorCode | RestErrorCode | InternalErrorCode;
/** The codes a client may see: the protocol's and the REST API's. */
export type PublicErrorCode = ProtocolErrorCode | RestErrorCode;

/** HTTP status of each code, from spec/protocol.md §6; internal codes answer as server faults. */
const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_MESSAGE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_A_MEMBER: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  MESSAGE_TOO_LARGE: 413,
  INVALID_CONTENT_TYPE: 415,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  SLOW_CONSUMER: 429,
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  INVALID_OPERATION: 400,
  CHAT_FULL: 400,
  DEVICE_MISMATCH: 401,
  INVALID_OTP: 401,
  INVALID_REFRESH_TOKEN: 401,
  USER_NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  ALREADY_A_MEMBER: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE_ENTITY: 422,
  NOT_OWNER: 503,
  CONFIG_INVALID: 500,
};

/** Whether a client may retry the same request (spec/protocol.md §6, "Client retries?"). */
export const RETRYABLE: Readonly<Record<ErrorCode, boolean>> = {
  INVALID_MESSAGE: false,
  UNAUTHORIZED: true,
  FORBIDDEN: false,
  NOT_A_MEMBER: false,
  NOT_FOUND: false,
  RATE_LIMITED: true,
  MESSAGE_TOO_LARGE: false,
  INVALID_CONTENT_TYPE: false,
  INTERNAL_ERROR: true,
  SERVICE_UNAVAILABLE: true,
  SLOW_CONSUMER: true,
  BAD_REQUEST: false,
  VALIDATION_ERROR: false,
  INVALID_OPERATION: false,
  CHAT_FULL: false,
  DEVICE_MISMATCH: false,
  INVALID_OTP: false,
  INVALID_REFRESH_TOKEN: false,
  USER_NOT_FOUND: false,
  CONFLICT: true,
  IDEMPOTENCY_KEY_REUSED: false,
  ALREADY_A_MEMBER: false,
  PAYLOAD_TOO_LARGE: false,
  UNPROCESSABLE_ENTITY: false,
  NOT_OWNER: true,
  CONFIG_INVALID: false,
};

export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface AppErrorOptions {
  /** Structured, client-safe facts (for example `{ field: "content", max_bytes: 4096 }`). */
  readonly details?: ErrorDetails;
  /** The underlying failure; logged, never sent to a client. */
  readonly cause?: unknown;
  /** Whether `message` may be shown to a client. Internal codes are never public. */
  readonly public?: boolean;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  readonly public: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.public = (options.public ?? true) && isPublicErrorCode(code);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  get retryable(): boolean {
    return RETRYABLE[this.code];
  }
}

export const isProtocolErrorCode = (code: string): code is ProtocolErrorCode =>
  (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);

export const isPublicErrorCode = (code: string): code is PublicErrorCode =>
  isProtocolErrorCode(code) || (REST_ERROR_CODES as readonly string[]).includes(code);

export const isAppError = (value: unknown): value is AppError => value instanceof AppError;

/** Any thrown value as an AppError; unknown failures become a non-public INTERNAL_ERROR keeping the cause. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  return new AppError("INTERNAL_ERROR", "internal error", { cause: value, public: false });
}

/** What a client may see of an error: internals are replaced by a generic text. */
export function publicView(error: AppError): {
  code: PublicErrorCode;
  message: string;
  details?: ErrorDetails;
} {
  if (!error.public || !isPublicErrorCode(error.code)) {
    const code: ProtocolErrorCode = error.code === "NOT_OWNER" ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR";
    return { code, message: code === "SERVICE_UNAVAILABLE" ? "service unavailable" : "internal error" };
  }
  return error.details === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, details: error.details };
}
