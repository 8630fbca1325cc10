import { type Config, defaultConfig } from "../../runtime/config.js";

/**
 * Pacing of large chats (spec/planes-ops-security-testing.md §1): a message to a chat of up to
 * `immediateMembers` members goes to every online recipient at once; above that the first `immediateMembers`
 * recipients get it at once and the rest at `ratePerSec` (chats up to `largeChatMembers` members) or
 * `largeRatePerSec` (larger ones), so one big chat cannot flood every gateway in one burst. A rate of 0 turns
 * pacing off for that tier. Groups are capped at 100 members (D9), so by default only the 100/s tier applies.
 */
export interface PacingOptions {
  readonly immediateMembers: number;
  readonly ratePerSec: number;
  readonly largeChatMembers: number;
  readonly largeRatePerSec: number;
  /** Granularity of the paced slices: each slice carries `rate x tickMs` recipients. */
  readonly tickMs: number;
}

/** How often a paced chat's next slice goes out; not an option (the rates are). */
const PACING_TICK_MS = 100;

/** The pacing a configuration asks for (FANOUT_PACING_*). */
export function pacingFromConfig(
  config: Pick<
    Config,
    | "fanoutPacingImmediateMembers"
    | "fanoutPacingRatePerSec"
    | "fanoutPacingLargeChatMembers"
    | "fanoutPacingLargeRatePerSec"
  >,
): PacingOptions {
  return {
    immediateMembers: config.fanoutPacingImmediateMembers,
    ratePerSec: config.fanoutPacingRatePerSec,
    largeChatMembers: config.fanoutPacingLargeChatMembers,
    largeRatePerSec: config.fanoutPacingLargeRatePerSec,
    tickMs: PACING_TICK_MS,
  };
}

/** The option table's defaults (runtime/config.ts), the one place their numbers are written. */
export const DEFAULT_PACING: PacingOptions = pacingFromConfig(defaultConfig());

export interface Slice<T> {
  /** Wait this long after the previous slice was pushed. */
  readonly delayMs: number;
  readonly recipients: readonly T[];
}

/** Splits a message's online recipients into the slices pacing allows, in their order. */
export function pacedSlices<T>(
  recipients: readonly T[],
  memberCount: number,
  pacing: PacingOptions,
): Slice<T>[] {
  const rate = memberCount <= pacing.largeChatMembers ? pacing.ratePerSec : pacing.largeRatePerSec;
  if (memberCount <= pacing.immediateMembers || rate <= 0 || recipients.length <= pacing.immediateMembers) {
    return [{ delayMs: 0, recipients }];
  }
  const perTick = Math.max(1, Math.floor((rate * pacing.tickMs) / 1000));
  const slices: Slice<T>[] = [{ delayMs: 0, recipients: recipients.slice(0, pacing.immediateMembers) }];
  for (let start = pacing.immediateMembers; start < recipients.length; start += perTick) {
    slices.push({ delayMs: pacing.tickMs, recipients: recipients.slice(start, start + perTick) });
  }
  return slices;
}
