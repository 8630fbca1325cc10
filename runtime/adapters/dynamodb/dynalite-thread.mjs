/**
 * The body of the dynalite thread (dynalite-worker.ts starts it). Plain JavaScript, so the thread loads only
 * dynalite, not a TypeScript loader. workerData: `{ settings, port }`. To the parent it posts
 * `{ type: "listening", port }` or `{ type: "failed", message, code }`; on `{ type: "stop" }` it closes the
 * server and the LevelDB store, then ends the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

const { settings, port } = workerData;
const server = dynalite(settings);

server.once("error", (error) => {
  parentPort.postMessage({ type: "failed", message: error.message, code: error.code });
});
server.listen(port, "127.0.0.1", () => {
  parentPort.postMessage({ type: "listening", port: server.address().port });
});

parentPort.on("message", (message) => {
  if (message?.type !== "stop") return;
  // dynalite's close waits for open connections (clients keep theirs alive) and then closes the store, which
  // releases the LevelDB lock: a restart on the same folder needs both.
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
