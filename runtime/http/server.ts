import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { AppError, toAppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { requestIdOf, sendError } from "./json.js";

/**
 * One HTTP server per process, shared by every role hosted in it (REST, WebSocket upgrades, health).
 * A route answers the request and returns true, or returns false to let the next one try.
 */
export type Route = (
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
) => Promise<boolean> | boolean;

export interface HttpServer {
  readonly server: Server;
  /** Routes are tried in the order they were added. */
  addRoute(route: Route): void;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, ends idle keep-alive sockets, waits for in-flight requests up to `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export function createHttpServer(logger: Logger): HttpServer {
  const routes: Route[] = [];
  const server = createServer((request, response) => {
    const requestId = requestIdOf(request);
    void (async () => {
      for (const route of routes) {
        if (await route(request, response, requestId)) return;
      }
      sendError(
        response,
        new AppError("NOT_FOUND", `no route for ${request.method} ${pathOf(request)}`),
        requestId,
      );
    })().catch((error: unknown) => {
      const appError = toAppError(error);
      logger.error({ err: error, request_id: requestId, path: pathOf(request) }, "request failed");
      if (!response.headersSent) sendError(response, appError, requestId);
      else response.destroy();
    });
  });
  return {
    server,
    addRoute: (route) => routes.push(route),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: (graceMs) =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The path of a request without its query string (which may carry a token: never log it). */
export const pathOf = (request: IncomingMessage): string => (request.url ?? "/").split("?")[0] ?? "/";

/**
 * Refuses (404) the WebSocket upgrades of a server that none of its upgrade handlers serves. Node leaves an
 * upgrade that no `upgrade` listener answers open until the socket times out; each handler (the gateway's
 * `/v1/ws`, the inspector's `/inspector/ws`) answers only its own paths, so `served` names them all.
 */
export function refuseOtherUpgrades(server: Server, served: (path: string) => boolean): void {
  server.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
    if (served(pathOf(request))) return;
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
}
