import { randomBytes } from "node:crypto";

/**
 * How tests find the real engines. `npm test` starts them and passes their endpoints through these
 * variables; a developer may point them at engines of their own. Without an endpoint a suite is skipped with
 * a message, except under CI=true, where a missing engine fails the run.
 */
export const ENGINE_ENV = {
  dynamodb: "DYNAMODB_ENDPOINT",
  redis: "REDIS_URL",
  kafka: "KAFKA_BROKERS",
} as const;
export type EngineName = keyof typeof ENGINE_ENV;

const warned = new Set<EngineName>();

export function engineEndpoint(name: EngineName): string | undefined {
  const variable = ENGINE_ENV[name];
  const value = process.env[variable];
  if (value) return value;
  if (process.env.CI === "true") {
    throw new Error(`${variable} is not set: under CI=true every engine must run (\`npm test\` starts them)`);
  }
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(
      `[engines] ${variable} is not set: skipping ${name} suites (run \`npm test\`, or \`npm run engines\`)`,
    );
  }
  return undefined;
}

/** A name no other suite uses, for tables, topics, groups and key prefixes on shared engines. */
export const uniqueName = (prefix: string): string => `${prefix}${randomBytes(5).toString("hex")}`;
