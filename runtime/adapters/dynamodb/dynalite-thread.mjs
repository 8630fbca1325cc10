/**
 * The body of the dynalite thread (dynalite-worker.ts starts it). Plain JavaScript, so the thread loads only
 * dynalite, not a TypeScript loader. workerData: `{ settings, port }`. To the parent it posts
 * `{ type: "listening", port, requests }` or `{ type: "failed", message, code }`; on `{ type: "stop" }` it
 * closes the server and the LevelDB store, then ends the thread.
 *
 * `requests` is a MessagePort on which this process's own clients send DynamoDB requests without HTTP
 * (in-process-dynalite.ts): `{ id, method, url, headers, body }` in, `{ id, status, headers, body }` out.
 * Each is handed to dynalite's own request handler through a minimal request and response, so both paths
 * run exactly the same validation and actions; other processes keep using the HTTP listener.
 */
import { EventEmitter } from "node:events";
import { MessageChannel, parentPort, workerData } from "node:worker_threads";
import dynalite from "dynalite";

const { settings, port } = workerData;
const server = dynalite(settings);
const channel = new MessageChannel();

server.once("error", (error) => {
  parentPort.postMessage({ type: "failed", message: error.message, code: error.code });
});
server.listen(port, "127.0.0.1", () => {
  parentPort.postMessage({ type: "listening", port: server.address().port, requests: channel.port2 }, [
    channel.port2,
  ]);
});

/** One request through dynalite's handler: it reads `headers`, `method`, `url` and the body's events. */
function handle(message) {
  const [handler] = server.listeners("request");
  const request = Object.assign(new EventEmitter(), {
    method: message.method,
    url: message.url,
    headers: message.headers,
  });
  const headers = {};
  const response = {
    statusCode: 200,
    setHeader(name, value) {
      headers[name.toLowerCase()] = String(value);
    },
    end(body) {
      channel.port1.postMessage({
        id: message.id,
        status: response.statusCode,
        headers,
        body: body === undefined ? "" : String(body),
      });
    },
  };
  handler(request, response);
  if (message.body.length > 0) request.emit("data", Buffer.from(message.body, "utf8"));
  request.emit("end");
}

channel.port1.on("message", (message) => {
  try {
    handle(message);
  } catch (error) {
    channel.port1.postMessage({ id: message.id, status: 500, headers: {}, body: "", error: String(error) });
  }
});

parentPort.on("message", (message) => {
  if (message?.type !== "stop") return;
  channel.port1.close();
  // dynalite's close waits for open connections (clients keep theirs alive) and then closes the store, which
  // releases the LevelDB lock: a restart on the same folder needs both.
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
