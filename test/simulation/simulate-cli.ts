import { parseArgs } from "node:util";
import { FAMILIES, type Family, familyNamed } from "./families.js";
import { describeFailure } from "./report.js";
import { runSimulation } from "./simulation.js";

const HELP = `Usage: npm run simulate -- [--runs N] [--seed S] [--family NAME] [--trace] [--max-failures K]

A deterministic simulation of the write path (ARCHITECTURE.md D16): owners of one chat on one in-memory store
and event log, every storage request a step that a seeded scheduler releases in its own order, with faults
(owners crashing between any two requests, writes that land but lose their reply, index writes stored in part,
the event log refusing, retries of a client_message_id through any owner before and after indexed_through
passed it, different block caps per owner). Each run ends by checking invariants 1-5 on the store.

Options:
  --runs N          runs (default 200, or 1 with --seed); seeds S, S+1, ... cycling over the families
  --seed S          first seed (default: time-based, printed); a failure prints the seed that replays it
  --family NAME     only this family (${FAMILIES.map((family) => family.name).join(", ")})
  --trace           print every run's full step trace (for replaying one seed)
  --max-failures K  stop after K failed runs (default 5)
Exits 1 when a run breaks an invariant.`;

const { values } = parseArgs({
  options: {
    runs: { type: "string" },
    seed: { type: "string" },
    family: { type: "string" },
    trace: { type: "boolean" },
    "max-failures": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const firstSeed = values.seed === undefined ? Date.now() % 1_000_000_000 : Number(values.seed);
const runs = Number(values.runs ?? (values.seed === undefined ? "200" : "1"));
const maxFailures = Number(values["max-failures"] ?? "5");
if (!Number.isInteger(firstSeed) || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(maxFailures)) {
  console.error("--seed, --runs and --max-failures must be integers (--runs at least 1)");
  process.exit(2);
}
const families: readonly Family[] = values.family === undefined ? FAMILIES : [familyNamed(values.family)];
const say = (line: string) => console.log(`[simulate] ${line}`);
say(`${runs} run(s) from seed ${firstSeed} over ${families.map((family) => family.name).join(", ")}`);

const started = performance.now();
let failures = 0;
let steps = 0;
let done = 0;
const perFamily = new Map<string, { runs: number; steps: number; crashes: number }>();
for (let index = 0; index < runs && failures < maxFailures; index++) {
  const family = families[index % families.length] as Family;
  const result = await runSimulation(firstSeed + index, family);
  done++;
  steps += result.steps;
  const tally = perFamily.get(family.name) ?? { runs: 0, steps: 0, crashes: 0 };
  perFamily.set(family.name, {
    runs: tally.runs + 1,
    steps: tally.steps + result.steps,
    crashes: tally.crashes + result.crashes,
  });
  if (values.trace) console.log(result.trace.join("\n"));
  if (result.violations.length > 0) {
    failures++;
    console.log(describeFailure(result));
  }
  if (done % 500 === 0) say(`${done} runs, ${failures} failed`);
}
const minutes = (performance.now() - started) / 60_000;
for (const [name, tally] of perFamily)
  say(
    `${name}: ${tally.runs} runs, ${Math.round(tally.steps / tally.runs)} steps per run, ${tally.crashes} crashes`,
  );
say(
  `${done} runs (${steps} storage steps) in ${(minutes * 60).toFixed(1)} s: ` +
    `${Math.round(done / minutes)} interleavings per minute, ${failures} failed`,
);
process.exit(failures > 0 ? 1 : 0);
