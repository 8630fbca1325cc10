import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors.js";
import { sendJson } from "../http/json.js";
import { pathOf, type Route } from "../http/server.js";
import { authorizeInspector, type InspectorAccess } from "./inspector-access.js";
import { actorFilterOf, inspectorSnapshot, type SnapshotSources } from "./inspector-snapshot.js";
import { machineGraph } from "./machine-graph.js";
import { toSvg } from "./machine-svg.js";

/** The page's own files, next to this module (no build step). */
const PAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "page");

const ASSETS: Readonly<Record<string, string>> = {
  "inspector.js": "text/javascript; charset=utf-8",
  "inspector.css": "text/css; charset=utf-8",
};

/**
 * The page loads only its own files and talks only to its own origin. Inline styles are allowed because the
 * diagrams are SVG documents with their own `<style>`, inserted into the page to be annotated.
 */
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self' ws: wss:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 *   GET /inspector                     the page (behind the inspector's access rule)
 *   GET /inspector/api/snapshot        machines with per-state counts, actors (?kind=&state=&key=&limit=), ring
 *   GET /inspector/machines/<name>.svg the diagrams, drawn from the machines at first request
 *   GET /inspector/assets/<file>       the page's script and stylesheet
 * The WebSocket `/inspector/ws` is served by InspectorSocket.
 */
export function inspectorRoute(sources: SnapshotSources, access: InspectorAccess): Route {
  const diagrams = new Map<string, string>();
  const diagram = (name: string): string | undefined => {
    let svg = diagrams.get(name);
    if (svg === undefined) {
      const drawn = sources.machines.find((machine) => machine.name === name);
      if (drawn === undefined) return undefined;
      svg = toSvg(machineGraph(drawn.machine), drawn.title);
      diagrams.set(name, svg);
    }
    return svg;
  };
  return async (request, response, requestId) => {
    const path = pathOf(request);
    if (path !== "/inspector" && !path.startsWith("/inspector/")) return false;
    if (request.method !== "GET" && request.method !== "HEAD") {
      throw new AppError("NOT_FOUND", `no inspector route for ${request.method} ${path}`);
    }
    if (path === "/inspector" || path === "/inspector/") {
      authorizeInspector(request, access);
      await sendFile(response, "index.html", "text/html; charset=utf-8", requestId, {
        "content-security-policy": PAGE_POLICY,
      });
      return true;
    }
    if (path === "/inspector/api/snapshot") {
      authorizeInspector(request, access);
      const filter = actorFilterOf(
        new URL(request.url ?? "/", "http://localhost").searchParams,
        sources.machines.map((machine) => machine.kind),
      );
      sendJson(response, 200, { data: await inspectorSnapshot(sources, filter) }, requestId);
      return true;
    }
    const svgName = /^\/inspector\/machines\/([a-z0-9-]+)\.svg$/.exec(path)?.[1];
    const svg = svgName === undefined ? undefined : diagram(svgName);
    if (svg !== undefined) {
      send(response, 200, "image/svg+xml; charset=utf-8", svg, requestId);
      return true;
    }
    const asset = path.startsWith("/inspector/assets/") ? path.slice("/inspector/assets/".length) : "";
    const type = ASSETS[asset];
    if (type !== undefined) {
      await sendFile(response, asset, type, requestId);
      return true;
    }
    throw new AppError("NOT_FOUND", `no inspector route for GET ${path}`);
  };
}

async function sendFile(
  response: ServerResponse,
  name: string,
  type: string,
  requestId: string,
  headers: Record<string, string> = {},
): Promise<void> {
  send(response, 200, type, await readFile(join(PAGE_ROOT, name)), requestId, headers);
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "x-request-id": requestId,
    ...headers,
  });
  response.end(body);
}
