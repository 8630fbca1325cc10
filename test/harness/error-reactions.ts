import type { ClientReconnectReason } from "./client.machine.js";
import type { ErrorCode, ErrorPayload } from "./wire.js";

/**
 * EH-01: what the client does with each error code of protocol §6, in one place. Pure functions of the code
 * and the attempt counts, so the table is testable on its own; the client carries the reactions out.
 */
export type SendReaction =
  /** Surfaced to the caller, removed from the outbox, never retried. */
  | { readonly kind: "fail" }
  /** As `fail`, and the chat is no longer synced (NOT_A_MEMBER, NOT_FOUND: "drop chat locally"). */
  | { readonly kind: "fail_and_drop_chat" }
  /** Sent again after `delayMs`, with the same client_message_id (MS-02). */
  | { readonly kind: "retry"; readonly delayMs: number }
  /** The connection must be replaced; the send stays in the outbox and goes out on the next one. */
  | { readonly kind: "reconnect"; readonly reason: ClientReconnectReason };

export type SyncReaction =
  | { readonly kind: "drop_chat" }
  | { readonly kind: "retry"; readonly delayMs: number }
  /** Not retried on this connection; the next connection syncs it again. */
  | { readonly kind: "give_up" }
  | { readonly kind: "reconnect"; readonly reason: ClientReconnectReason };

export interface Attempts {
  /** Attempts so far of this send or sync (≥ 1). */
  readonly attempts: number;
  /** INTERNAL_ERRORs so far, this one included. */
  readonly internalErrors: number;
  readonly internalErrorTries: number;
  /** CL-06 delay before retry `attempt` (1 = the first retry). */
  readonly backoff: (attempt: number) => number;
}

/** Errors that are about the connection, not the request: they may also come unsolicited. */
export function connectionReaction(code: string): ClientReconnectReason | undefined {
  // RS-03: SLOW_CONSUMER → reconnect and sync everything; UNAUTHORIZED → refresh, reconnect, no backoff.
  if (code === "SLOW_CONSUMER") return "slow_consumer";
  if (code === "UNAUTHORIZED") return "unauthorized";
  return undefined;
}

export function sendErrorReaction(code: string, error: ErrorPayload, attempts: Attempts): SendReaction {
  const reconnect = connectionReaction(code);
  if (reconnect !== undefined) return { kind: "reconnect", reason: reconnect };
  switch (code as ErrorCode) {
    case "INVALID_MESSAGE":
    case "MESSAGE_TOO_LARGE":
    case "INVALID_CONTENT_TYPE":
    case "FORBIDDEN":
      // Client bugs and refusals: never retried (RS-04 for FORBIDDEN).
      return { kind: "fail" };
    case "NOT_A_MEMBER":
    case "NOT_FOUND":
      return { kind: "fail_and_drop_chat" };
    case "RATE_LIMITED":
      return { kind: "retry", delayMs: retryAfterMs(error) ?? attempts.backoff(attempts.attempts) };
    case "SERVICE_UNAVAILABLE":
      // EH-04: transient, retried with backoff for as long as it takes.
      return { kind: "retry", delayMs: attempts.backoff(attempts.attempts) };
    default:
      // INTERNAL_ERROR, and anything undocumented: backoff, 3 tries, then surfaced.
      if (attempts.internalErrors >= attempts.internalErrorTries) return { kind: "fail" };
      return { kind: "retry", delayMs: attempts.backoff(attempts.internalErrors) };
  }
}

export function syncErrorReaction(code: string, error: ErrorPayload, attempts: Attempts): SyncReaction {
  const reconnect = connectionReaction(code);
  if (reconnect !== undefined) return { kind: "reconnect", reason: reconnect };
  switch (code as ErrorCode) {
    case "NOT_A_MEMBER":
    case "NOT_FOUND":
    case "FORBIDDEN":
      // RS-04: never retried.
      return { kind: "drop_chat" };
    case "RATE_LIMITED":
    case "SERVICE_UNAVAILABLE":
      return { kind: "retry", delayMs: retryAfterMs(error) ?? attempts.backoff(attempts.attempts) };
    case "INTERNAL_ERROR":
      if (attempts.internalErrors >= attempts.internalErrorTries) return { kind: "give_up" };
      return { kind: "retry", delayMs: attempts.backoff(attempts.internalErrors) };
    default:
      // INVALID_MESSAGE and the like: a client bug; retrying the same request cannot help.
      return { kind: "give_up" };
  }
}

export function retryAfterMs(error: ErrorPayload): number | undefined {
  const seconds = error.details?.retry_after_seconds;
  return typeof seconds === "number" && seconds >= 0 ? seconds * 1000 : undefined;
}
