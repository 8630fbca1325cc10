import { type DestinationStream, type Logger, type LoggerOptions as LoggerOptionsOfPino, pino } from "pino";

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  /** Fixed fields on every line, e.g. `{ role: "gateway", node_id: "gw-1" }`. */
  readonly base?: Record<string, unknown>;
  /** Where lines go; default stdout. */
  readonly destination?: DestinationStream;
}

/** Redacted wherever they occur, in every mode. */
const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "token",
  "*.token",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  // One-time codes: the REST field, the names a code would be logged under, and the SNS Publish input.
  "otp",
  "*.otp",
  "*.*.otp",
  "otp_code",
  "*.otp_code",
  "one_time_code",
  "*.one_time_code",
  "verification_code",
  "*.verification_code",
  "input.Message",
  "*.input.Message",
];

/**
 * Structured JSON logs on stdout. Credentials and one-time codes never appear: the paths below are redacted
 * wherever they occur (tokens in query strings are stripped by the edges before logging). A one-time code is
 * written only by the dev SMS sender, in its message text, and that sender exists only in dev mode.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings: LoggerOptionsOfPino = {
    level: options.level,
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
