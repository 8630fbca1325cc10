import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AppError } from "../../errors.js";

export interface DynamoClientOptions {
  /** A dynalite server, DynamoDB Local or an AWS endpoint; AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  readonly region: string;
  /** Attempts per request including the first; defaults: 2 on a local engine, the SDK's 3 on AWS. */
  readonly maxAttempts?: number;
}

/**
 * A DynamoDB client for AWS or a local engine. A plain-http endpoint can only be a local engine (AWS serves
 * https only): it gets static dummy credentials, since dynalite checks none and the default provider chain
 * would search the machine for real ones, and few attempts, since a local engine that fails once is down
 * and callers should learn it quickly (SERVICE_UNAVAILABLE) instead of after the SDK's backoff.
 */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const protocol =
    options.endpoint !== undefined && URL.canParse(options.endpoint)
      ? new URL(options.endpoint).protocol
      : undefined;
  if (options.endpoint !== undefined && protocol !== "http:" && protocol !== "https:") {
    throw new AppError(
      "CONFIG_INVALID",
      `DynamoDB endpoint ${JSON.stringify(options.endpoint)} is not an http(s) URL`,
    );
  }
  const local = protocol === "http:";
  // The SDK warns on Node 20 about releases after January 2027; package-lock.json pins a release that
  // supports Node 20, so the warning only adds noise to every start. An explicit setting is respected.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new DynamoDBClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(local ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
    maxAttempts: options.maxAttempts ?? (local ? 2 : 3),
    // Without timeouts a hung connection would hold a chat's sequencer mailbox forever.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  });
}

/** Error names of DynamoDB that mean "try again later", not "this request is wrong". */
const UNAVAILABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "ThrottlingException",
  "LimitExceededException",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
/** Node socket errors: the endpoint is unreachable or dropped the connection. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;

/** Whether a failure is transient (network, throttling, a 5xx) rather than a fault of the request. */
export function isUnavailable(error: unknown): boolean {
  const name = field(error, "name");
  const code = field(error, "code");
  const status = field(field(error, "$metadata"), "httpStatusCode");
  return (
    (typeof name === "string" && UNAVAILABLE_NAMES.has(name)) ||
    (typeof code === "string" && NETWORK_CODES.has(code)) ||
    field(error, "$fault") === "server" ||
    (typeof status === "number" && status >= 500)
  );
}

/**
 * Any failure of a DynamoDB request as an AppError: transient ones are SERVICE_UNAVAILABLE (clients retry),
 * everything else INTERNAL_ERROR. The SDK error stays the cause, for logs; its text never reaches clients.
 */
export function dynamoFailure(error: unknown, operation: string): AppError {
  if (error instanceof AppError) return error;
  if (isUnavailable(error)) {
    return new AppError("SERVICE_UNAVAILABLE", "storage is unavailable", {
      cause: error,
      details: { operation },
    });
  }
  return new AppError("INTERNAL_ERROR", `DynamoDB ${operation} failed`, { cause: error, public: false });
}

/** Runs one request, mapping its failures (see `dynamoFailure`). */
export async function dynamoRequest<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw dynamoFailure(error, operation);
  }
}

/**
 * Runs one conditional write: its output when it was applied, undefined when its condition failed (the
 * expected outcome of D2's fencing and of every monotonic update, not an error); other failures are mapped.
 */
export async function conditionalWrite<T extends object>(
  operation: string,
  send: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await send();
  } catch (error) {
    if (isConditionFailed(error)) return undefined;
    throw dynamoFailure(error, operation);
  }
}

/** By name rather than instanceof, so that a second copy of the SDK in node_modules cannot break it. */
export const hasErrorName = (error: unknown, name: string): boolean => field(error, "name") === name;

const isConditionFailed = (error: unknown): boolean => hasErrorName(error, "ConditionalCheckFailedException");
