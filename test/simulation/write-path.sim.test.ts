import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { FAMILIES } from "./families.js";
import { describeFailure } from "./report.js";
import { runSimulation } from "./simulation.js";

/**
 * ARCHITECTURE.md D16 under a deterministic simulation (see simulation.ts): about 200 seeded interleavings per
 * `npm test`, spread over the scenario families, each ending with invariants 1-5 checked on the store. The
 * fast-check seed is fixed, so `npm test` always runs the same interleavings; `npm run simulate` explores new
 * ones, and a failure here prints the simulation seed and the command that replays it with its trace.
 */
const TOTAL_RUNS = 200;
const RUNS_PER_FAMILY = Math.ceil(TOTAL_RUNS / FAMILIES.length);
const FAST_CHECK_SEED = Number(process.env.SIMULATION_FAST_CHECK_SEED ?? 19_2026);

const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe("deterministic simulation of the write path (D16)", () => {
  for (const family of FAMILIES) {
    test.prop([seeds], { numRuns: RUNS_PER_FAMILY, seed: FAST_CHECK_SEED, endOnFailure: true })(
      `${family.name}: ${family.about}; invariants 1-5 hold`,
      async (seed) => {
        const result = await runSimulation(seed, family);
        if (result.violations.length > 0) throw new Error(describeFailure(result));
      },
    );
  }

  test("a seed replays the same interleaving, step for step", async () => {
    const family = FAMILIES.find((candidate) => candidate.name === "mixed") ?? FAMILIES[0];
    if (family === undefined) throw new Error("no families");
    const first = await runSimulation(77, family);
    const second = await runSimulation(77, family);
    expect(second.trace).toEqual(first.trace);
    expect(first.steps).toBeGreaterThan(50);
  });

  /**
   * The simulation proves nothing if its faults never happen: over a few seeds, each family puts into effect
   * what it exists for (conflicts between owners, lost replies, partial index writes, crashes with requests
   * landing after them, the log refusing, retries answered from the index, reads through stale owners).
   */
  test("every family puts its faults into effect", async () => {
    const wanted: Record<string, readonly RegExp[]> = {
      "split-brain": [/-> taken/, /\(deduplicated\)/, /query first>=\d+ asc limit \d+ -> \d/],
      "lost-replies": [/reply lost/, /appendBlock .* reply lost/, /refused \(not applied\)/],
      "index-behind": [/partial: \d+ of/, /casIndexedThrough/, /getIndexRecords \{.*\} -> \{c/],
      crashes: [/CRASH/, /landed after the crash/, /lost with the process/],
      "event-log": [/publish seq .* refused/, /publish seq .* reply lost/, /passivate/],
      readers: [/synced via/, /acked via/, /-> taken/],
      mixed: [/CRASH/, /partial: \d+ of/, /reply lost/, /-> taken/],
    };
    for (const family of FAMILIES) {
      const traces: string[] = [];
      for (let seed = 1; seed <= 12; seed++) traces.push(...(await runSimulation(seed, family)).trace);
      for (const pattern of wanted[family.name] ?? []) {
        expect(
          traces.some((line) => pattern.test(line)),
          `${family.name} never showed ${pattern}`,
        ).toBe(true);
      }
    }
  });
});
