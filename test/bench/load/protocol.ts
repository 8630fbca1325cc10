import type { WireName } from "./wire.js";

/** The commands a load-client process (./client-process.ts) takes from the bench process, and its answers. */

export interface Target {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A frame sent as soon as the socket opens (Centrifugo's `connect` command, which carries the token). */
  readonly hello?: string;
}

/**
 * What a group of sockets does with the frames it receives:
 *   count   - counts them (memory, push throughput);
 *   keyed   - stores the receive time of every `message` push under `chat_id#sequence` (latency from a time
 *             only the server side knows, e.g. when a message was persisted);
 *   stamped - reads the scheduled send time the load generator wrote at the start of the content.
 */
export type RecordMode = "count" | "keyed" | "stamped";

export interface LoadPlan {
  /** Offered messages per second over all senders. */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** After the last scheduled send, how long receivers keep counting before the step is summed up. */
  readonly drainMs: number;
  /** Bytes of each message's content (the scheduled time included). */
  readonly contentBytes: number;
  /** For each sender socket of the group, the chats it sends to (in turn). */
  readonly chatsBySender: readonly (readonly string[])[];
  /** Receivers each message is pushed to (the members of its chat but the sender); default 1. */
  readonly pushesPerMessage?: number;
}

export type Command =
  | {
      readonly cmd: "connect";
      readonly group: string;
      readonly targets: readonly Target[];
      readonly waitFirstFrame: boolean;
      readonly record: RecordMode;
      readonly concurrency: number;
      /** The protocol the group speaks; default "platform". */
      readonly wire?: WireName;
      /**
       * Receivers send a cumulative `ack` per chat at most this often (the first push after a flush arms the
       * timer, as the reference client's batcher does); unset: no acks.
       */
      readonly ackIntervalMs?: number;
      /** Every socket of the group sends a `heartbeat` this often; unset: none. */
      readonly heartbeatIntervalMs?: number;
    }
  | { readonly cmd: "expect"; readonly total: number; readonly timeoutMs: number }
  | { readonly cmd: "latencies"; readonly reference: Readonly<Record<string, number>> }
  | { readonly cmd: "load"; readonly senders: string; readonly plan: LoadPlan }
  | { readonly cmd: "close"; readonly group?: string };

export type Answer =
  | { readonly ok: true; readonly connected: number; readonly elapsedMs: number; readonly failed: number }
  | { readonly ok: true; readonly received: number; readonly elapsedMs: number; readonly complete: boolean }
  | {
      readonly ok: true;
      readonly matched: number;
      readonly unmatched: number;
      readonly missing: number;
      readonly latencies: import("./stats.js").LatencySummary;
      readonly firstReceiveAt: number;
      readonly lastReceiveAt: number;
    }
  | { readonly ok: true; readonly step: StepResult }
  | { readonly ok: true; readonly closed: number }
  | { readonly ok: false; readonly error: string };

export interface StepResult {
  readonly offeredPerSecond: number;
  readonly scheduled: number;
  /** Sends that left late by more than 10 ms: the generator itself could not keep the timetable. */
  readonly sentLate: number;
  /** Pushes received (one per message and receiver). */
  readonly received: number;
  /** Messages that reached every one of their receivers by the end of the drain. */
  readonly deliveredToAll: number;
  /** Pushes received per second over the step's second half (the pipeline full by then). */
  readonly pushesPerSecond: number;
  /** `pushesPerSecond` over the receivers per message: messages per second. */
  readonly achievedPerSecond: number;
  /** Latency of each push from its message's scheduled send time; pushes never received count as the drain bound. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Error frames by code (e.g. RATE_LIMITED), answered to senders. */
  readonly errors: Readonly<Record<string, number>>;
  /** `send_message_ack`s (Centrifugo: publish replies) the senders got. */
  readonly acks: number;
  /** Cumulative delivery `ack`s the receivers sent. */
  readonly deliveryAcksSent: number;
}

export interface Envelope<T> {
  readonly id: number;
  readonly body: T;
}
