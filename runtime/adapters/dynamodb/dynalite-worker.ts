import { type MessagePort, Worker } from "node:worker_threads";
import { DYNAMO_REQUEST_TIMEOUTS } from "./client.js";
import {
  type DynaliteOptions,
  type DynaliteServer,
  dynaliteSettings,
  dynaliteStarted,
  dynaliteVersion,
} from "./dynalite-server.js";
import { InProcessDynalite, registerInProcessDynalite } from "./in-process-dynalite.js";

const THREAD = new URL("./dynalite-thread.mjs", import.meta.url);

/** What dynalite-thread.mjs posts while starting. */
type StartMessage =
  | { readonly type: "listening"; readonly port: number; readonly requests: MessagePort }
  | { readonly type: "failed"; readonly message: string; readonly code?: string };

/** The port the thread listens on and its request port, once it says so; start listeners go either way. */
function listening(worker: Worker): Promise<{ port: number; requests: MessagePort }> {
  return new Promise<{ port: number; requests: MessagePort }>((resolve, reject) => {
    const settle = (outcome: () => void) => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      outcome();
    };
    const onMessage = (message: StartMessage) =>
      settle(() =>
        message.type === "listening"
          ? resolve({ port: message.port, requests: message.requests })
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
 * Other processes reach it over HTTP exactly as they reach an in-thread dynalite (`startDynalite`); DynamoDB
 * clients of this process skip HTTP and send their requests to the thread as messages (in-process-dynalite.ts).
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

  const { port, requests } = await listening(worker).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const unregister = registerInProcessDynalite(
    endpoint,
    new InProcessDynalite(requests, DYNAMO_REQUEST_TIMEOUTS.requestTimeout),
  );
  options.progress(dynaliteStarted(version, endpoint, options.path, "on a worker thread"));
  let stopped: Promise<void> | undefined;
  return {
    name: "dynalite",
    version,
    endpoint,
    stop: () => {
      stopped ??= (async () => {
        unregister();
        worker.postMessage({ type: "stop" });
        await exited;
      })();
      return stopped;
    },
  };
}
