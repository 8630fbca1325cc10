import type { Config } from "../config.js";
import { SERVICE_NAME, SERVICE_VERSION } from "../version.js";
import { sendJson } from "./json.js";
import { pathOf, type Route } from "./server.js";

/** Which of a process's two HTTP listeners a route belongs to (./server.ts; app/platform.ts wires both). */
export type Listener = "public" | "internal";

/**
 * `GET /` of a listener without the browser client: what it serves, so a person who opens the URL learns
 * where to go (and a liveness probe that checks no dependency). The public listener names only what clients
 * use; the operator endpoints are listed on the internal one alone.
 */
export function indexRoute(config: Pick<Config, "role">, listener: Listener): Route {
  const endpoints =
    listener === "public"
      ? { health: "/health", ...(config.role === "gateway" ? { websocket: "/v1/ws" } : {}) }
      : { health: "/health", admin_ring: "/admin/ring", inspector: "/inspector", metrics: "/metrics" };
  return (request, response, requestId) => {
    if (pathOf(request) !== "/" || request.method !== "GET") return false;
    sendJson(
      response,
      200,
      { service: SERVICE_NAME, version: SERVICE_VERSION, role: config.role, listener, endpoints },
      requestId,
    );
    return true;
  };
}
