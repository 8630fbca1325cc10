import { type Logger, pino } from "pino";

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  /** Fixed fields on every line, e.g. `{ role: "gateway", node_id: "gw-1" }`. */
  readonly base?: Record<string, unknown>;
}

/**
 * Structured JSON logs on stdout. Credentials never appear: the paths below are redacted wherever they
 * occur (tokens in query strings are stripped by the edges before logging).
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "token",
        "*.token",
        "access_token",
        "*.access_token",
        "refresh_token",
        "*.refresh_token",
        "otp",
        "*.otp",
      ],
      censor: "[redacted]",
    },
  });
}
