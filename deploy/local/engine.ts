import { homedir } from "node:os";
import { join } from "node:path";

/** An engine started for tests, the local cluster or `npm run engines`; the starter owns it and stops it. */
export interface RunningEngine {
  /** `dynalite`, `redis-server`, `kafka`. */
  readonly name: string;
  readonly version: string;
  /** What a client is configured with: a URL (`http://…`, `redis://…`) or Kafka's `host:port`. */
  readonly endpoint: string;
  /** The engine's own process, when it has one (never killed by name, only by this pid). */
  readonly pid?: number;
  /** Stops the engine and removes its temporary files; safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops the engine's process (SIGTERM: a clean shutdown; SIGKILL: a crash) and starts it again on the same
   * port, as an operator or a supervisor would. Engines without a process of their own have none.
   */
  restart?(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
}

export interface EngineOptions {
  /** Long-lived downloads (the Kafka jars) live here, outside the repository. */
  readonly cacheDir: string;
  /** One line per step, for people watching a long start. */
  readonly progress: (line: string) => void;
}

/** `ENGINES_CACHE_DIR`, else `$XDG_CACHE_HOME/messaging-platform`, else `~/.cache/messaging-platform`. */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.ENGINES_CACHE_DIR) return env.ENGINES_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "messaging-platform");
}
