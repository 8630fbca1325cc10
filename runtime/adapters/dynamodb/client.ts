import { Agent } from "node:http";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { AppError } from "../../errors.js";
import { inProcessDynalite, inProcessRequestHandler } from "./in-process-dynalite.js";

export interface DynamoClientOptions {
  /** A dynalite server, DynamoDB Local or an AWS endpoint; AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  readonly region: string;
  /** Attempts per request including the first; defaults: 2 on a local engine, the SDK's 3 on AWS. */
  readonly maxAttempts?: number;
}

/** Without timeouts a hung connection would hold a chat's sequencer mailbox forever. */
export const DYNAMO_REQUEST_TIMEOUTS = {
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  throwOnRequestTimeout: true,
} as const;

/**
 * Kept-alive connections to a local engine: enough for the widest concurrency this project drives (64 requests
 * in flight in the benchmarks); more would only move the queue from this client into the engine, which answers
 * one request at a time anyway.
 */
const LOCAL_MAX_SOCKETS = 64;

/** Static dummy credentials: dynalite checks none, DynamoDB Local keys its database by the access key id. */
export const LOCAL_ACCESS_KEY_ID = "local";

/**
 * Middleware that does nothing a local engine needs: the SDK's User-Agent header, Lambda's trace-id header,
 * and request logging (no logger is configured).
 */
const LOCAL_SKIPPED_MIDDLEWARE = [
  "getUserAgentMiddleware",
  "recursionDetectionMiddleware",
  "loggerMiddleware",
];

/**
 * The authentication headers a local engine accepts without SigV4: dynalite checks that Authorization has its
 * shape (a Credential, SignedHeaders, a Signature) and that X-Amz-Date is there, but never verifies the
 * signature, and neither does DynamoDB Local (which keys its database by the Credential's access key id).
 * SigV4 would hash the body and the canonical request and compute an HMAC on every request.
 */
export function localAuthHeaders(region: string, now: Date): { authorization: string; "x-amz-date": string } {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_ACCESS_KEY_ID}/${amzDate.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
    "x-amz-date": amzDate,
  };
}

/** The SDK's auth scheme for a local endpoint: the SigV4 slot, filled by `localAuthHeaders`, no credentials. */
function localAuthSchemes(region: string): NonNullable<DynamoDBClientConfig["httpAuthSchemes"]> {
  return [
    {
      schemeId: "aws.auth#sigv4",
      identityProvider: () => async () => ({}),
      signer: {
        sign: async (request) => {
          Object.assign(request.headers, localAuthHeaders(region, new Date()));
          return request;
        },
      },
    },
  ];
}

/**
 * A DynamoDB client for AWS or a local engine. A plain-http endpoint can only be a local engine (AWS serves
 * https only), and it gets a cheaper request path:
 * - static dummy credentials, since the default provider chain would search the machine for real ones;
 * - few attempts, since a local engine that fails once is down and callers should learn it quickly
 *   (SERVICE_UNAVAILABLE) instead of after the SDK's backoff;
 * - no SigV4 signing (`localAuthHeaders`), no middleware a local engine has no use for, and the middleware
 *   stack resolved once per command class instead of once per request. The cache makes concurrent requests
 *   of one command share a context object that the endpoint and auth middleware write into; with a local
 *   endpoint what they write is the same for every request (one URL, one signer), so sharing is harmless.
 *   Against AWS it need not be (endpoints can depend on the request), so AWS keeps the SDK's defaults.
 * Together they take about 40% off the client's CPU per conditional PutItem (455 -> 270 µs on this project's
 * 2-core machine, dynalite in another process); `npm run bench -- --only storage-requests` compares both.
 * A dynalite thread of this process (the embedded default) is reached without HTTP at all
 * (in-process-dynalite.ts).
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
  const inProcess =
    local && options.endpoint !== undefined && inProcessDynalite(options.endpoint) !== undefined
      ? options.endpoint
      : undefined;
  // The SDK warns on Node 20 about releases after January 2027; package-lock.json pins a release that
  // supports Node 20, so the warning only adds noise to every start. An explicit setting is respected.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? (local ? 2 : 3),
    requestHandler:
      inProcess !== undefined
        ? inProcessRequestHandler(inProcess)
        : local
          ? {
              ...DYNAMO_REQUEST_TIMEOUTS,
              httpAgent: new Agent({ keepAlive: true, maxSockets: LOCAL_MAX_SOCKETS }),
            }
          : { ...DYNAMO_REQUEST_TIMEOUTS },
    ...(local
      ? {
          credentials: { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: LOCAL_ACCESS_KEY_ID },
          httpAuthSchemes: localAuthSchemes(options.region),
          cacheMiddleware: true,
        }
      : {}),
  });
  if (local) for (const name of LOCAL_SKIPPED_MIDDLEWARE) client.middlewareStack.remove(name);
  return client;
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
function isUnavailable(error: unknown): boolean {
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
