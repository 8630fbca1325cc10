import type { Clock } from "../../runtime/clock.js";
import { type BackoffPolicy, DEFAULT_BACKOFF, type Random } from "./backoff.js";
import type { ErrorCode } from "./wire.js";

/** The reference client's options, timings and public result types. */

export interface AccessToken {
  readonly accessToken: string;
  /** Epoch ms of the token's `exp`, when known: the client refreshes ahead of it (CL-07). */
  readonly expiresAtMs?: number;
}

export interface TokenProvider {
  /** A token for the next connection; a fresh one when `forceRefresh` (401, `token_expired`, CL-07). */
  getToken(options: { forceRefresh: boolean }): Promise<AccessToken>;
}

export interface ClientTimings {
  /** A send without an ack after this long goes out again with the same client_message_id (MS-02). */
  readonly sendTimeoutMs: number;
  /** AK-06: acks flush every 5 s … */
  readonly ackFlushIntervalMs: number;
  /** … or at 10 pending messages. */
  readonly ackBatchSize: number;
  /** Protocol §10: page size of `sync_request` (≤ 500). */
  readonly syncPageSize: number;
  /** RS-05: at most 5 chats syncing at once … */
  readonly maxSyncInFlight: number;
  /** … and protocol §10: at most 5 `sync_request` per second. */
  readonly syncPerSecond: number;
  /** Close handshake deadline before the socket is terminated. */
  readonly closeTimeoutMs: number;
  /** CL-07: refresh this long before `exp` (protocol §3: about 5 min; at most a fifth of what is left). */
  readonly tokenRefreshLeadMs: number;
  /** Protocol §6: INTERNAL_ERROR is retried with backoff, 3 tries, then surfaced. */
  readonly internalErrorTries: number;
  /** CL-06. */
  readonly backoff: BackoffPolicy;
}

export const DEFAULT_TIMINGS: ClientTimings = {
  sendTimeoutMs: 10_000,
  ackFlushIntervalMs: 5_000,
  ackBatchSize: 10,
  syncPageSize: 100,
  maxSyncInFlight: 5,
  syncPerSecond: 5,
  closeTimeoutMs: 5_000,
  tokenRefreshLeadMs: 5 * 60_000,
  internalErrorTries: 3,
  backoff: DEFAULT_BACKOFF,
};

/** pino-compatible. */
export interface ClientLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const SILENT_LOGGER: ClientLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

export interface ClientOptions {
  /** WebSocket endpoint, e.g. `ws://127.0.0.1:8080/v1/ws`. */
  readonly url: string;
  readonly tokens: TokenProvider;
  /** The durable state file of this user and device (see `stateFileFor`). */
  readonly stateFile: string;
  /** CL-02: stable per device; default the one in the state file, else a new UUIDv4 kept there. */
  readonly deviceId?: string;
  readonly userId?: string;
  /** Chats to sync from the start (e.g. from `GET /api/v1/chats`); chats also join by send and push. */
  readonly chats?: readonly string[];
  readonly clock?: Clock;
  readonly random?: Random;
  /** EH-05: a monotonic clock for round-trip latency (default `performance.now`). */
  readonly latencyNow?: () => number;
  readonly timings?: Partial<ClientTimings>;
  readonly logger?: ClientLogger;
  /** See `MachinePolicy.reconnectOnDuplicate`. */
  readonly reconnectOnDuplicate?: boolean;
  /** CL-01/CL-02 fallback for environments without headers: `?token=&device_id=`. */
  readonly credentialsInQuery?: boolean;
}

/** A failure surfaced to the caller of `send`, with the protocol's code or one of the client's own. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    readonly code: ErrorCode | "CLOSED" | "OFFLINE",
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A `send_message_ack`: the message is durably stored (D1). */
export interface Ack {
  readonly clientMessageId: string;
  readonly chatId: string;
  readonly messageId: string;
  readonly sequence: number;
  readonly createdAt: string;
}
