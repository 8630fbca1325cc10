import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

const require = createRequire(import.meta.url);

/** A dynalite server of this process; shaped like the local engines of deploy/local (RunningEngine). */
export interface DynaliteServer {
  readonly name: "dynalite";
  readonly version: string;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface DynaliteOptions {
  readonly progress: (line: string) => void;
  /** LevelDB folder; in memory when absent. */
  readonly path?: string;
  /** 0 = any free port. */
  readonly port?: number;
}

/** What every dynalite of ours is created with, on this thread or another: tables are ready at once. */
export function dynaliteSettings(path: string | undefined): NonNullable<Parameters<typeof dynalite>[0]> {
  return { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path === undefined ? {} : { path }) };
}

export function dynaliteVersion(): string {
  return (require("dynalite/package.json") as { version: string }).version;
}

/** The start line both starters report. */
export function dynaliteStarted(version: string, endpoint: string, path: string | undefined, where: string) {
  return `dynalite ${version} listening on ${endpoint} ${where}${path ? ` (data in ${path})` : " (in memory)"}`;
}

/**
 * dynalite on this thread, on loopback: the DynamoDB API for tests that stop and restart it. Its requests
 * share this thread's event loop with whatever else runs here; `startDynaliteWorker` (dynalite-worker.ts)
 * gives it a thread of its own.
 */
export async function startDynalite(options: DynaliteOptions): Promise<DynaliteServer> {
  const version = dynaliteVersion();
  const server = dynalite(dynaliteSettings(options.path));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  options.progress(dynaliteStarted(version, endpoint, options.path, "in this thread"));
  let stopped: Promise<void> | undefined;
  return {
    name: "dynalite",
    version,
    endpoint,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      return stopped;
    },
  };
}
