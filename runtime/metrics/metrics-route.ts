import { pathOf, type Route } from "../http/server.js";
import type { Metrics } from "./metrics.js";

/**
 * `GET /metrics`: the Prometheus text exposition of this process, without a token (it carries no ids of
 * chats, users, messages or connections, see ./catalog.ts); mounted on the internal listener only, which
 * only the platform's own pods and monitoring reach.
 */
export function metricsRoute(metrics: Metrics): Route {
  return async (request, response) => {
    if (pathOf(request) !== "/metrics" || request.method !== "GET") return false;
    const body = await metrics.scrape();
    response.writeHead(200, {
      "content-type": metrics.contentType,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    response.end(body);
    return true;
  };
}
