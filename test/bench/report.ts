import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { cpus, freemem, release, totalmem, type } from "node:os";
import type { Figure, LatencyCurve } from "./scenario.js";

/**
 * What `npm run bench` prints and writes: the terminal table and the JSON report. Shaping is pure (tested in
 * bench-report.test.ts); only `machineInfo` looks at the machine.
 */

/** One entry of the report's `results`: a figure that has a target. */
export interface TargetResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly target: string;
  readonly met: boolean;
}

/** How one scenario of the run ended. */
export interface ScenarioOutcome {
  readonly name: string;
  readonly title: string;
  readonly durationMs: number;
  readonly figures: readonly Figure[];
  readonly curves: readonly LatencyCurve[];
  readonly details: Readonly<Record<string, unknown>>;
  /** Why the scenario did not finish; absent when it did. */
  readonly error?: string;
  /** Why it did not run at all (an engine it needs is missing); absent when it ran. */
  readonly skipped?: string;
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly freeMemoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly gitCommit: string | null;
}

export interface BenchReport {
  readonly mode: "quick" | "full";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly engines: Readonly<Record<string, string>>;
  /** Every figure that has a target, in the shape the issue asks for. */
  readonly results: readonly TargetResult[];
  /** Every figure, with its scenario. */
  readonly figures: ReadonlyArray<Figure & { readonly scenario: string }>;
  readonly curves: ReadonlyArray<LatencyCurve & { readonly scenario: string }>;
  readonly details: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly scenarios: ReadonlyArray<{
    readonly name: string;
    readonly title: string;
    readonly durationMs: number;
    readonly status: "ok" | "failed" | "skipped";
    readonly reason?: string;
  }>;
}

/** The q-quantile (0..1) of ascending values, nearest rank; NaN when there are none. */
export const percentile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN);

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Dependencies whose versions explain the numbers. */
export const KEY_PACKAGES = [
  "@aws-sdk/client-dynamodb",
  "dynalite",
  "ws",
  "kafkajs",
  "ioredis",
  "xstate",
  "@grpc/grpc-js",
  "pino",
  "tsx",
] as const;

export function targetResults(figures: readonly Figure[]): TargetResult[] {
  return figures.flatMap((f) =>
    f.target === null || f.met === null
      ? []
      : [
          {
            name: f.name,
            value: f.value,
            unit: f.unit,
            baseline: f.baseline,
            ratio: f.ratio,
            target: f.target,
            met: f.met,
          },
        ],
  );
}

export function buildReport(input: {
  readonly quick: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly machine: MachineInfo;
  readonly engines: Readonly<Record<string, string>>;
  readonly outcomes: readonly ScenarioOutcome[];
}): BenchReport {
  const figures = input.outcomes.flatMap((o) => o.figures.map((f) => ({ ...f, scenario: o.name })));
  return {
    mode: input.quick ? "quick" : "full",
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    machine: input.machine,
    engines: input.engines,
    results: targetResults(figures),
    figures,
    curves: input.outcomes.flatMap((o) => o.curves.map((c) => ({ ...c, scenario: o.name }))),
    details: Object.fromEntries(input.outcomes.map((o) => [o.name, o.details])),
    scenarios: input.outcomes.map((o) => ({
      name: o.name,
      title: o.title,
      durationMs: Math.round(o.durationMs),
      status: o.skipped !== undefined ? "skipped" : o.error !== undefined ? "failed" : "ok",
      ...(o.skipped !== undefined ? { reason: o.skipped } : o.error !== undefined ? { reason: o.error } : {}),
    })),
  };
}

/** A number as the table shows it: at most three significant decimals, thousands grouped. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, useGrouping: true });
}

export const TABLE_HEADER = ["figure", "value", "baseline", "ratio", "target", "met"] as const;

/** The rows of the terminal table, header first; a baseline carries its label. */
export function tableRows(figures: readonly Figure[]): string[][] {
  return [
    [...TABLE_HEADER],
    ...figures.map((f) => [
      f.name,
      `${formatNumber(f.value)} ${f.unit}`,
      f.baseline === null ? "" : `${formatNumber(f.baseline)} (${f.baselineLabel})`,
      f.ratio === null ? "" : `${f.ratio}x`,
      f.target ?? "",
      f.met === null ? "" : f.met ? "met" : "MISS",
    ]),
  ];
}

/** The rows padded into columns. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = tableRows(figures);
  const widths = TABLE_HEADER.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One closing line: how many targets were met, and which were missed. */
export function targetSummary(results: readonly TargetResult[]): string {
  const missed = results.filter((r) => !r.met);
  return missed.length === 0
    ? `targets: ${results.length} met`
    : `targets: ${results.length - missed.length} met, ${missed.length} missed (${missed.map((r) => r.name).join(", ")})`;
}

export function machineInfo(root: string): MachineInfo {
  const require = createRequire(`${root}/package.json`);
  const versions: Record<string, string> = {};
  for (const name of KEY_PACKAGES) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      versions[name] = "not installed";
    }
  }
  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    // not a git checkout (an unpacked release): the commit is simply unknown
  }
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model ?? "unknown",
    cpuCount: processors.length,
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    os: `${type()} ${release()} ${process.arch}`,
    node: process.version,
    versions,
    gitCommit,
  };
}
