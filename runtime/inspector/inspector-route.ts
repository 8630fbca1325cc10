import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../errors.js";
import { sendJson } from "../http/json.js";
import { pathOf, type Route } from "../http/server.js";
import { authorizeInspector, type InspectorAccess } from "./inspector-access.js";
import { attachment, send, wantsDownload } from "./inspector-http.js";
import { actorFilterOf, inspectorSnapshot, type SnapshotSources } from "./inspector-snapshot.js";
import type { ServerMachine } from "./machine-catalog.js";
import { machineGraph } from "./machine-graph.js";
import { machineJson } from "./machine-json.js";
import { toSvg } from "./machine-svg.js";
import type { Recordings } from "./recordings.js";
import { RECORDINGS_PATH, serveRecordings } from "./recordings-route.js";

/** The page's own files, next to this module (no build step). */
const PAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "page");

const ASSETS: Readonly<Record<string, string>> = {
  "inspector.js": "text/javascript; charset=utf-8",
  "page-tools.js": "text/javascript; charset=utf-8",
  "recordings.js": "text/javascript; charset=utf-8",
  "replay.js": "text/javascript; charset=utf-8",
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
 *   GET /inspector                      the page
 *   GET /inspector/api/snapshot         machines with per-state counts, actors (?kind=&state=&key=&limit=), ring
 *   GET /inspector/machines/<name>.svg  a diagram, drawn from its machine at first request (?download: a file)
 *   GET /inspector/machines/<name>.json the machine's XState config as JSON, as a file
 *   /inspector/api/recordings…          recordings of transitions (recordings-route.ts)
 *   GET /inspector/assets/<file>        the page's scripts and stylesheet
 * Everything but the assets is behind the inspector's access rule. The WebSocket `/inspector/ws` is served by
 * InspectorSocket.
 */
export function inspectorRoute(
  sources: SnapshotSources,
  access: InspectorAccess,
  recordings: Recordings,
): Route {
  const diagrams = new Map<string, string>();
  const drawn = (name: string) => sources.machines.find((machine) => machine.name === name);
  const diagram = (machine: ServerMachine): string => {
    let svg = diagrams.get(machine.name);
    if (svg === undefined) {
      svg = toSvg(machineGraph(machine.machine), machine.title);
      diagrams.set(machine.name, svg);
    }
    return svg;
  };
  // Kinds whose actors report their steps; those a plane reports only when asked have none to record.
  const recordable = () =>
    sources.machines.map((machine) => machine.kind).filter((kind) => sources.polled(kind) === undefined);
  return async (request, response, requestId) => {
    const path = pathOf(request);
    if (path !== "/inspector" && !path.startsWith("/inspector/")) return false;
    const params = new URL(request.url ?? "/", "http://localhost").searchParams;
    const asset = path.startsWith("/inspector/assets/") ? path.slice("/inspector/assets/".length) : "";
    const assetType = ASSETS[asset];
    if (assetType === undefined) authorizeInspector(request, access);
    if (path.startsWith(RECORDINGS_PATH)) {
      if (await serveRecordings(request, response, requestId, path, recordings, recordable)) return true;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      throw new AppError("NOT_FOUND", `no inspector route for ${request.method} ${path}`);
    }
    if (path === "/inspector" || path === "/inspector/") {
      await sendFile(response, "index.html", "text/html; charset=utf-8", requestId, {
        "content-security-policy": PAGE_POLICY,
      });
      return true;
    }
    if (path === "/inspector/api/snapshot") {
      const filter = actorFilterOf(
        params,
        sources.machines.map((machine) => machine.kind),
      );
      sendJson(response, 200, { data: await inspectorSnapshot(sources, filter) }, requestId);
      return true;
    }
    const [, name, extension] = /^\/inspector\/machines\/([a-z0-9-]+)\.(svg|json)$/.exec(path) ?? [];
    const machine = name === undefined ? undefined : drawn(name);
    if (machine !== undefined && extension === "svg") {
      const headers = wantsDownload(params) ? attachment(`${machine.name}.svg`) : {};
      send(response, 200, "image/svg+xml; charset=utf-8", diagram(machine), requestId, headers);
      return true;
    }
    if (machine !== undefined && extension === "json") {
      const json = `${JSON.stringify(machineJson(machine.machine), null, 2)}\n`;
      send(
        response,
        200,
        "application/json; charset=utf-8",
        json,
        requestId,
        attachment(`${machine.name}.json`),
      );
      return true;
    }
    if (assetType !== undefined) {
      await sendFile(response, asset, assetType, requestId);
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
