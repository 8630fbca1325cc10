import type { Scenario } from "../scenario.js";

/**
 * Runs one load scenario alone and prints its result as JSON, e.g.
 *   node --import tsx test/bench/scenarios/run-one.ts fanout --quick
 * Engines come from DYNAMODB_ENDPOINT, REDIS_URL and KAFKA_BROKERS when set. `npm run bench` runs them all.
 */
const SCENARIOS: Record<string, () => Promise<{ scenario: Scenario }>> = {
  fanout: () => import("./fanout.js"),
  connections: () => import("./connections.js"),
  "end-to-end": () => import("./end-to-end.js"),
  groups: () => import("./groups.js"),
};

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const name = args.find((arg) => !arg.startsWith("--"));
const load = name === undefined ? undefined : SCENARIOS[name];
if (load === undefined || args.includes("--help")) {
  console.error(
    `Usage: node --import tsx test/bench/scenarios/run-one.ts <${Object.keys(SCENARIOS).join("|")}> [--quick] [--embedded-only | --cluster-only]`,
  );
  process.exit(name === undefined || args.includes("--help") ? 0 : 2);
}
const { scenario } = await load();
const context = {
  quick: args.includes("--quick"),
  env: {
    DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
    REDIS_URL: process.env.REDIS_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
  },
  // The monotonic time in µs, as in a .cpuprofile, so a profile can be cut to a phase of the run.
  progress: (line: string) => console.error(`[${scenario.name} ${process.hrtime.bigint() / 1000n}] ${line}`),
};
// --embedded-only (end-to-end): the embedded curve alone, e.g. under `node --cpu-prof` to profile the server.
// --cluster-only (end-to-end): the cluster curve and its hops alone.
const endToEnd = name === "end-to-end" ? await import("./end-to-end.js") : undefined;
const result =
  endToEnd !== undefined && args.includes("--embedded-only")
    ? await endToEnd.embeddedOnly(context)
    : endToEnd !== undefined && args.includes("--cluster-only")
      ? await endToEnd.clusterOnly(context)
      : await scenario.run(context);
console.log(JSON.stringify(result, null, 2));
