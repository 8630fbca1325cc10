import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pathOf, type Route } from "../../runtime/http/server.js";

/** The browser client's files: this folder, next to this module (no build step). */
const WEB_ROOT = dirname(fileURLToPath(import.meta.url));

/** Only these extensions are served; anything else under `/web/` (this .ts file included) is not found. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * A flat file name: no separators, no `..`, no leading dot, nothing percent-encoded (the raw path is matched,
 * so `/`, `\`, `%` are all refused): a request can never name a file outside WEB_ROOT.
 */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)$/;

/**
 * `GET /` (the page) and `GET /web/<file>` (its modules and stylesheet), read from disk on each request (a
 * changed file is served on the next reload, no restart) with `cache-control: no-cache` and an ETag, so a
 * reload costs 304s. Every other request is left to the next route (returns false).
 */
export function webRoute(root: string = WEB_ROOT): Route {
  return async (request, response, requestId) => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const path = pathOf(request);
    let name: string;
    if (path === "/" || path === "/index.html") name = "index.html";
    else if (path.startsWith("/web/")) name = path.slice("/web/".length);
    else return false;
    const extension = FILE_NAME.exec(name)?.[1];
    const type = extension === undefined ? undefined : CONTENT_TYPES[extension];
    if (type === undefined) return sendNotFound(response, requestId);
    let body: Buffer;
    try {
      body = await readFile(join(root, name));
    } catch {
      return sendNotFound(response, requestId);
    }
    // no-cache = revalidate every time; the ETag makes that a 304 without a body when nothing changed.
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const headers = {
      "content-type": type,
      "cache-control": "no-cache",
      etag,
      "x-content-type-options": "nosniff",
      "x-request-id": requestId,
      ...(extension === ".html" ? { "content-security-policy": PAGE_POLICY } : {}),
    };
    if (request.headers["if-none-match"] === etag) {
      response.writeHead(304, headers);
      response.end();
      return true;
    }
    response.writeHead(200, { ...headers, "content-length": body.length });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  };
}

/** The page loads only its own files and talks only to its own origin (REST and the WebSocket). */
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; " +
  "base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function sendNotFound(response: ServerResponse, requestId: string): true {
  const text = JSON.stringify({
    error: { code: "NOT_FOUND", message: "no such file", request_id: requestId },
  });
  response.writeHead(404, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-cache",
    "x-request-id": requestId,
  });
  response.end(text);
  return true;
}
