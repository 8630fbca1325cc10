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

/** dynalite in this process, on loopback: the DynamoDB API for tests and the embedded mode. */
export async function startDynalite(options: DynaliteOptions): Promise<DynaliteServer> {
  const { version } = require("dynalite/package.json") as { version: string };
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  options.progress(
    `dynalite ${version} listening on ${endpoint}${options.path ? ` (data in ${options.path})` : " (in memory)"}`,
  );
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
