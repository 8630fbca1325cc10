import { defaultCacheDir } from "./engine.js";
import { ENGINES, type EngineKey, startEngines } from "./engines.js";
import { guardProcesses } from "./process-guard.js";

/**
 * `npm run engines [-- dynamodb redis kafka]`: starts the real engines the tests use and keeps them running
 * until Ctrl-C, printing the variables that point tests or a cluster at them.
 */
const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log(`Usage: npm run engines [-- <engine...>]

Starts ${Object.keys(ENGINES).join(", ")} (default: all) on free loopback ports and prints
the environment variables to use them, e.g. \`DYNAMODB_ENDPOINT=… REDIS_URL=… KAFKA_BROKERS=… npx vitest\`.
Ctrl-C stops everything it started. Kafka jars are cached in ${defaultCacheDir()}.`);
  process.exit(0);
}
const known = Object.keys(ENGINES) as EngineKey[];
const unknown = args.filter((arg) => !known.includes(arg as EngineKey));
if (unknown.length > 0) {
  console.error(`unknown engine(s): ${unknown.join(", ")} (known: ${known.join(", ")})`);
  process.exit(2);
}
const which = args.length > 0 ? (args as EngineKey[]) : known;

const engines = await startEngines({
  which,
  env: {},
  required: true,
  cacheDir: defaultCacheDir(),
  progress: (line) => console.log(`[engines] ${line}`),
});
guardProcesses(engines.stopAll, () => engines.started);
console.log("\nEngines are running. Use them with:\n");
for (const [name, value] of Object.entries(engines.env)) console.log(`  export ${name}=${value}`);
console.log("\nCtrl-C stops them.");
// Keeps the process (and the in-process dynalite) alive until a signal arrives.
setInterval(() => {}, 1 << 30);
