import { startDynaliteWorker } from "../../runtime/adapters/dynamodb/dynalite-worker.js";
import type { EngineOptions, RunningEngine } from "./engine.js";
import { startKafka } from "./kafka.js";
import { startRedis } from "./redis.js";

/**
 * Starts the real engines the tests and the local cluster run against, unless the environment already names
 * one (`DYNAMODB_ENDPOINT`, `REDIS_URL`, `KAFKA_BROKERS`). The single source of truth for how each engine is
 * started: `npm test`, `npm run engines` and the local cluster all come through here.
 */
export const ENGINES = {
  dynamodb: {
    variable: "DYNAMODB_ENDPOINT",
    install: "nothing (dynalite is an npm dependency: run `npm ci`)",
  },
  redis: { variable: "REDIS_URL", install: "Debian's redis-server: `sudo apt-get install -y redis-server`" },
  kafka: {
    variable: "KAFKA_BROKERS",
    install:
      "Java 17+ and Maven (`sudo apt-get install -y openjdk-17-jre-headless maven`); the jars come from Maven Central",
  },
} as const;
export type EngineKey = keyof typeof ENGINES;

const STARTERS: Record<EngineKey, (options: EngineOptions) => Promise<RunningEngine>> = {
  // A thread of its own: the launcher's event loop stays free for what runs beside it (a bench scenario, the
  // cluster's entry proxy).
  dynamodb: (options) => startDynaliteWorker({ progress: options.progress }),
  redis: startRedis,
  kafka: startKafka,
};

export interface StartedEngines {
  /** Variables that point clients at every available engine. */
  readonly env: Record<string, string>;
  readonly started: readonly RunningEngine[];
  /** Engines that could not be started, with the reason (only when `required` is false). */
  readonly missing: ReadonlyArray<{ engine: EngineKey; reason: string }>;
  stopAll(): Promise<void>;
}

export interface StartEnginesOptions extends EngineOptions {
  readonly which: readonly EngineKey[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** When true (CI), an engine that cannot start fails the whole start. */
  readonly required: boolean;
}

export async function startEngines(options: StartEnginesOptions): Promise<StartedEngines> {
  const env: Record<string, string> = {};
  const started: RunningEngine[] = [];
  const missing: Array<{ engine: EngineKey; reason: string }> = [];
  const stopAll = async () => {
    const running = started.splice(0).reverse();
    await Promise.allSettled(running.map((engine) => engine.stop()));
  };
  // Started one after another: on two cores a parallel JVM start slows everything else down more than it saves.
  try {
    for (const key of options.which) {
      const { variable, install } = ENGINES[key];
      const given = options.env[variable];
      if (given) {
        env[variable] = given;
        options.progress(`${key}: using ${variable}=${given}`);
        continue;
      }
      try {
        const engine = await STARTERS[key](options);
        started.push(engine);
        env[variable] = engine.endpoint;
      } catch (error) {
        const reason = `${key} could not start: ${error instanceof Error ? error.message : String(error)}\n  install: ${install}`;
        if (options.required) throw new Error(reason, { cause: error });
        missing.push({ engine: key, reason });
        options.progress(`${reason}\n  its suites will be skipped`);
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { env, started, missing, stopAll };
}
