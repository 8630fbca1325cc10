import { randomFillSync } from "node:crypto";
import type { Clock } from "./clock.js";

/** Branded identifiers (D13): a prefix plus a ULID, so ids sort by creation time and say what they name. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type ChatId = Brand<string, "ChatId">;
export type MessageId = Brand<string, "MessageId">;
export type UserId = Brand<string, "UserId">;
export type ConnectionId = Brand<string, "ConnectionId">;
export type EventId = Brand<string, "EventId">;
export type SessionId = Brand<string, "SessionId">;
/** Per-chat position assigned by the chat's sequencer: an integer in 1..2^53-1. */
export type Sequence = Brand<number, "Sequence">;

const ID_PREFIXES = {
  chat: "chat_",
  message: "msg_",
  user: "user_",
  connection: "conn_",
  event: "evt_",
  session: "sess_",
} as const;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_ULID_TIME = 2 ** 48 - 1;

export type RandomBytes = (length: number) => Uint8Array;
const cryptoRandomBytes: RandomBytes = (length) => randomFillSync(new Uint8Array(length));

/**
 * Monotonic ULIDs: within one millisecond the random part is incremented, so ids made by one generator
 * always sort in creation order. Clock and randomness are injected (D14).
 */
export class UlidGenerator {
  private lastTime = -1;
  private lastRandom: Uint8Array = new Uint8Array(10);

  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly random: RandomBytes = cryptoRandomBytes,
  ) {}

  next(): string {
    const time = this.clock.now();
    if (!Number.isInteger(time) || time < 0 || time > MAX_ULID_TIME) {
      throw new RangeError(`time ${time} cannot be encoded in a ULID`);
    }
    if (time <= this.lastTime) {
      this.lastRandom = incrementBytes(this.lastRandom);
    } else {
      this.lastTime = time;
      this.lastRandom = this.random(10);
    }
    return encodeTime(Math.max(time, this.lastTime)) + encodeRandom(this.lastRandom);
  }
}

function encodeTime(time: number): string {
  let out = "";
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD.charAt(rest % 32) + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits -> 16 base-32 characters, most significant first.
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = 0; i < 16; i++) {
    out = CROCKFORD.charAt(Number(bits & 31n)) + out;
    bits >>= 5n;
  }
  return out;
}

function incrementBytes(bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    const value = next[i] ?? 0;
    if (value < 255) {
      next[i] = value + 1;
      return next;
    }
    next[i] = 0;
  }
  throw new RangeError("ULID random part overflowed within one millisecond");
}

export const isUlid = (value: string): boolean => ULID_PATTERN.test(value);

/** Makes every kind of id from one ULID source. */
export class IdFactory {
  private readonly ulids: UlidGenerator;

  constructor(clock: Pick<Clock, "now">, random: RandomBytes = cryptoRandomBytes) {
    this.ulids = new UlidGenerator(clock, random);
  }

  chat(): ChatId {
    return (ID_PREFIXES.chat + this.ulids.next()) as ChatId;
  }
  message(): MessageId {
    return (ID_PREFIXES.message + this.ulids.next()) as MessageId;
  }
  user(): UserId {
    return (ID_PREFIXES.user + this.ulids.next()) as UserId;
  }
  connection(): ConnectionId {
    return (ID_PREFIXES.connection + this.ulids.next()) as ConnectionId;
  }
  event(): EventId {
    return (ID_PREFIXES.event + this.ulids.next()) as EventId;
  }
  session(): SessionId {
    return (ID_PREFIXES.session + this.ulids.next()) as SessionId;
  }
  /** A bare ULID, e.g. for refresh-token families. */
  ulid(): string {
    return this.ulids.next();
  }
}

const hasPrefixedUlid = (value: string, prefix: string): boolean =>
  value.startsWith(prefix) && isUlid(value.slice(prefix.length));

export const isChatId = (value: string): value is ChatId => hasPrefixedUlid(value, ID_PREFIXES.chat);
export const isMessageId = (value: string): value is MessageId => hasPrefixedUlid(value, ID_PREFIXES.message);
export const isUserId = (value: string): value is UserId => hasPrefixedUlid(value, ID_PREFIXES.user);
export const isConnectionId = (value: string): value is ConnectionId =>
  hasPrefixedUlid(value, ID_PREFIXES.connection);

export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

export const isSequence = (value: unknown): value is Sequence =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_SEQUENCE;

export function toSequence(value: number): Sequence {
  if (!isSequence(value)) throw new RangeError(`${value} is not a sequence (an integer in 1..2^53-1)`);
  return value;
}
