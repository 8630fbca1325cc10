/**
 * Reconnect and heartbeat timing of the reference client (spec/client-contract.md CL-04, CL-05, CL-06), as
 * pure functions of an injected random source so tests can seed it and predict every delay.
 */

/** A source of numbers in [0, 1). `Math.random` in production; `seededRandom(n)` in tests. */
export type Random = () => number;

export interface BackoffPolicy {
  /** CL-06: first delay (1 s). */
  readonly baseMs: number;
  /** CL-06: the doubling stops here (30 s). */
  readonly maxMs: number;
  /** CL-06: ±25% jitter, as a fraction. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000, jitter: 0.25 };

/** CL-04: heartbeats go out every `heartbeat_interval_ms` ±10%. */
export const HEARTBEAT_JITTER = 0.1;

/** CL-05: after `connection_closing` the client waits `reconnect_delay_ms` plus up to 25% more. */
export const RECONNECT_DELAY_JITTER = 0.25;

/** `value` spread uniformly over ±`fraction` by one draw of `random`. */
export function jittered(value: number, fraction: number, random: Random): number {
  return Math.round(value * (1 + fraction * (2 * random() - 1)));
}

/**
 * CL-06: the delay before reconnect attempt `attempt` (0 = the first retry): base·2^attempt, capped, then
 * jittered. The cap applies before the jitter (so one delay lies in [22.5 s, 37.5 s] once capped) — the
 * contract names both numbers without an order; jitter after the cap keeps clients that all hit the cap
 * from reconnecting in lockstep, which is the jitter's purpose.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return jittered(capped, policy.jitter, random);
}

/** CL-05: the server's `reconnect_delay_ms` plus 0–25% so a drained gateway's clients do not return at once. */
export function reconnectDelayMs(serverDelayMs: number, random: Random): number {
  return Math.round(Math.max(0, serverDelayMs) * (1 + RECONNECT_DELAY_JITTER * random()));
}

/** CL-04: the next heartbeat's delay. */
export function heartbeatDelayMs(intervalMs: number, random: Random): number {
  return jittered(intervalMs, HEARTBEAT_JITTER, random);
}

/** A small deterministic generator (mulberry32) for tests that need predictable jitter. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
