import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SimulationResult } from "./simulation.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-results", "simulation");

/** How to run a failed seed again. */
export const replayCommand = (result: Pick<SimulationResult, "seed" | "family">): string =>
  `npm run simulate -- --family ${result.family} --seed ${result.seed} --trace`;

/**
 * A failed run as a reader needs it: the violations, the replay command and the end of the step trace; the whole
 * trace goes to test-results/simulation/<family>-<seed>.txt.
 */
export function describeFailure(result: SimulationResult, traceLines = 120): string {
  const file = join(RESULTS, `${result.family}-${result.seed}.txt`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${result.violations.join("\n")}\n\n${result.trace.join("\n")}\n`);
  const shown = result.trace.slice(-traceLines);
  return [
    `simulation family ${result.family} seed ${result.seed} broke ${result.violations.length} check(s):`,
    ...result.violations.map((violation) => `  - ${violation}`),
    `replay: ${replayCommand(result)}`,
    `full trace (${result.trace.length} lines): ${file}`,
    `last ${shown.length} trace lines:`,
    ...shown,
  ].join("\n");
}
