import { AppError, isAppError } from "../../errors.js";

/** kafkajs errors that mean "no broker answered" rather than "a broker said no". */
const UNREACHABLE_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

/**
 * How a kafkajs failure reaches callers of the EventLog port: broker unreachable or temporarily unable ->
 * SERVICE_UNAVAILABLE (the outbox retries, a subscribe waits), unknown topic -> NOT_FOUND, anything else ->
 * INTERNAL_ERROR. `what` names the operation for the message.
 */
export function kafkaAppError(error: unknown, what: string): AppError {
  if (isAppError(error)) return error;
  let unreachable = false;
  let unknownTopic = false;
  // kafkajs wraps the last failure of a retried call in KafkaJSNumberOfRetriesExceeded (`cause`/`originalError`).
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const { type, cause, originalError, retriable } = current as Error & {
      type?: string;
      originalError?: unknown;
      retriable?: boolean;
    };
    // A retriable broker answer (a coordinator loading, a leader moving) is a temporary outage too.
    if (UNREACHABLE_ERRORS.has(current.name) || retriable === true) unreachable = true;
    if (type === "UNKNOWN_TOPIC_OR_PARTITION") unknownTopic = true;
    current = cause ?? originalError;
  }
  if (unknownTopic) return new AppError("NOT_FOUND", `${what}: unknown topic`, { cause: error });
  if (unreachable) {
    return new AppError("SERVICE_UNAVAILABLE", `${what}: no Kafka broker could be reached`, { cause: error });
  }
  return new AppError("INTERNAL_ERROR", `${what} failed`, { cause: error, public: false });
}
