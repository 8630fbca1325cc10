/**
 * The contract between `npm run bench` (test/bench/bench-cli.ts) and each benchmark scenario: a scenario measures
 * its figure and the baseline for it in the same run, so the ratio holds on a noisy machine.
 */

/** One reported figure. `ratio` = value / baseline, whatever the direction; the target says which way is good. */
export interface Figure {
  /** Stable identifier, e.g. "persist.hot_chat.throughput". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The same quantity measured on the baseline in this run; null when the figure has no baseline. */
  readonly baseline: number | null;
  /** What the baseline is, e.g. "raw conditional PutItem". */
  readonly baselineLabel: string;
  /** value / baseline, rounded to 2 decimals; null without a baseline. */
  readonly ratio: number | null;
  /** Human-readable target, e.g. ">= 0.45 × baseline" or ">= 200 msg/s"; null when the figure has none. */
  readonly target: string | null;
  /** Whether the target was met; null when the figure has no target. */
  readonly met: boolean | null;
}

/** One point of a latency-versus-offered-rate curve (open-loop load). */
export interface LatencyPoint {
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

export interface LatencyCurve {
  /** e.g. "embedded" or "cluster". */
  readonly label: string;
  readonly points: readonly LatencyPoint[];
}

export interface ScenarioResult {
  readonly figures: readonly Figure[];
  /** Curves to plot (the end-to-end scenario); others leave it out. */
  readonly curves?: readonly LatencyCurve[];
  /** Anything else worth keeping in the JSON (request counts, settings). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ScenarioContext {
  /** --quick: short phases, smaller populations; the numbers are indicative only. */
  readonly quick: boolean;
  /** Engines to use when set (otherwise the scenario starts what it needs itself, in-process where possible). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A progress line for the terminal. */
  readonly progress: (line: string) => void;
}

/** The real engines a scenario can ask the bench command for (deploy/local/engines.ts starts them). */
export type BenchEngine = "dynamodb" | "redis" | "kafka";

export interface Scenario {
  /** Short name used by `--only`, e.g. "persist". */
  readonly name: string;
  readonly title: string;
  /**
   * Engines the command starts for this scenario when the environment names none (their variables then reach
   * the scenario through `context.env`); a scenario without it gets whatever engines the environment names.
   */
  readonly engines?: readonly BenchEngine[];
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

/** Builds a figure, computing its ratio from value and baseline. */
export function figure(input: Omit<Figure, "ratio" | "met"> & { readonly met?: boolean | null }): Figure {
  const ratio =
    input.baseline === null || input.baseline === 0
      ? null
      : Math.round((input.value / input.baseline) * 100) / 100;
  return { ...input, ratio, met: input.met ?? null };
}
