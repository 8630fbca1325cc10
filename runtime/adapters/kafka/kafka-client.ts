import type { Admin, LogEntry, Producer } from "kafkajs";
import kafkajs from "kafkajs";
import type { Logger } from "../../logger.js";
import { kafkaAppError } from "./kafka-errors.js";

const { logLevel } = kafkajs;

// How the event log makes its kafkajs clients: connected once and shared, forgotten when the connection fails
// so the next call tries again, and logging through the platform's logger.

/** Connects a client; a failed connection is forgotten (`forget`) so the next call tries again. */
export function connectOnce<T extends Admin | Producer>(
  client: T,
  what: string,
  forget: () => void,
): Promise<T> {
  return client.connect().then(
    () => client,
    (error: unknown) => {
      forget();
      throw kafkaAppError(error, `connecting ${what}`);
    },
  );
}

/** kafkajs's log lines into pino at the matching level, or nothing at all without a logger. */
export function kafkajsLogging(logger: Logger | undefined) {
  if (logger === undefined) return { logLevel: logLevel.NOTHING };
  const child = logger.child({ component: "kafkajs" });
  const levels: Record<string, number> = {
    trace: logLevel.DEBUG,
    debug: logLevel.DEBUG,
    info: logLevel.INFO,
    warn: logLevel.WARN,
    error: logLevel.ERROR,
    fatal: logLevel.ERROR,
  };
  return {
    logLevel: levels[logger.level] ?? logLevel.NOTHING,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
        const line = { namespace, ...fields };
        if (level === logLevel.ERROR) child.error(line, message);
        else if (level === logLevel.WARN) child.warn(line, message);
        else if (level === logLevel.INFO) child.info(line, message);
        else child.debug(line, message);
      },
  };
}
