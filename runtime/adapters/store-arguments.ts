import { AppError } from "../errors.js";
import { type ChatId, isSequence } from "../ids.js";
import type { MessageRange, StoredMessage } from "../ports/message-store.js";

/**
 * Checks of the arguments that cross the storage ports, shared by every adapter so that all of them refuse
 * the same caller mistakes the same way. These are programming errors of the caller (edges validate client
 * input before it gets here), hence non-public INTERNAL_ERRORs.
 */
const MAX_READ_LIMIT = 1000;

const callerError = (message: string, details: Record<string, unknown>): AppError =>
  new AppError("INTERNAL_ERROR", message, { details, public: false });

/** A block (D16): at least one message, one chat, ascending consecutive sequences. */
export function checkBlock(chatId: ChatId, messages: readonly StoredMessage[]): void {
  if (messages.length === 0) throw callerError("a block holds at least one message", { chatId });
  let previous: number | undefined;
  for (const message of messages) {
    if (message.chatId !== chatId) {
      throw callerError("append batch holds a message of another chat", { chatId, other: message.chatId });
    }
    if (!isSequence(message.sequence)) {
      throw callerError("append batch holds an invalid sequence", { sequence: message.sequence });
    }
    if (previous !== undefined && message.sequence !== previous + 1) {
      throw callerError("append batch sequences are not consecutive", { previous, next: message.sequence });
    }
    previous = message.sequence;
  }
}

export function checkMessageRange(range: MessageRange): void {
  if (!Number.isInteger(range.limit) || range.limit < 1 || range.limit > MAX_READ_LIMIT) {
    throw callerError(`read limit must be an integer in 1..${MAX_READ_LIMIT}`, { limit: range.limit });
  }
  for (const bound of [range.after, range.before]) {
    if (bound !== undefined && !Number.isSafeInteger(bound)) {
      throw callerError("range bounds must be integers", { after: range.after, before: range.before });
    }
  }
}

/** Counter values are positions (0 = nothing yet): non-negative safe integers. */
export function checkCounterAdvance(advance: {
  readonly highWater?: number;
  readonly publishedThrough?: number;
}): void {
  for (const value of [advance.highWater, advance.publishedThrough]) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw callerError("counter values must be non-negative integers", { ...advance });
    }
  }
}

export function checkSequence(sequence: number): void {
  if (!isSequence(sequence)) throw callerError("not a sequence (an integer in 1..2^53-1)", { sequence });
}

export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw callerError(`page limit must be an integer in 1..${MAX_READ_LIMIT}`, { limit });
  }
}

/** Whether an expiring record (D12) is still in force: it lapses only once `now` is past `expiresAt`. */
export const isInForce = (record: { readonly expiresAt: number }, now: number): boolean =>
  record.expiresAt >= now;

/** `indexedThrough` moves by compare-and-set between positions: non-negative safe integers. */
export function checkIndexedThrough(from: number, to: number): void {
  for (const value of [from, to]) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw callerError("indexed_through values must be non-negative integers", { from, to });
    }
  }
}
