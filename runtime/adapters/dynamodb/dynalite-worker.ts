import { Worker } from "node:worker_threads";
import {
  type DynaliteOptions,
  type DynaliteServer,
  dynaliteSettings,
  dynaliteStarted,
  dynaliteVersion,
} from "./dynalite-server.js";

const THREAD = new URL("./dynalite-thread.mjs", import.meta.url);

/** What dynalite-thread.mjs posts while starting. */
type StartMessage =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "failed"; readonly message: string; readonly code?: string };

/** The port the thread listens on, once it says so; its start listeners are removed either way. */
function listening(worker: Worker): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const settle = (outcome: () => void) => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      outcome();
    };
    const onMessage = (message: StartMessage) =>
      settle(() =>
        message.type === "listening"
          ? resolve(message.port)
          : reject(
              Object.assign(new Error(`dynalite could not listen: ${message.message}`), {
                code: message.code,
              }),
            ),
      );
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`the dynalite thread exited with code ${code} before listening`)));
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  });
}

/**
 * dynalite on a worker thread of this process, listening on loopback: the embedded platform's storage. One
 * process and one command still, but dynalite's request handling (JSON, validation, LevelDB) runs on a
 * second event loop, so a second core serves it instead of queueing it behind the platform's own work.
 * Clients reach it over HTTP exactly as they reach an in-thread dynalite (`startDynalite`).
 *
 * An uncaught exception in dynalite after the start is raised again on this thread (the worker has no
 * `error` listener then), ending the process as it would have with dynalite on this thread.
 */
export async function startDynaliteWorker(options: DynaliteOptions): Promise<DynaliteServer> {
  const version = dynaliteVersion();
  const worker = new Worker(THREAD, {
    name: "dynalite",
    workerData: { settings: dynaliteSettings(options.path), port: options.port ?? 0 },
    // Not this process's flags (tsx's loader, vitest's hooks): the thread runs plain JavaScript.
    execArgv: [],
  });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  const port = await listening(worker).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  options.progress(dynaliteStarted(version, endpoint, options.path, "on a worker thread"));
  let stopped: Promise<void> | undefined;
  return {
    name: "dynalite",
    version,
    endpoint,
    stop: () => {
      stopped ??= (async () => {
        worker.postMessage({ type: "stop" });
        await exited;
      })();
      return stopped;
    },
  };
}
