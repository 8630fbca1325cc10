import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../errors.js";
import { readJsonBody, sendJson } from "../http/json.js";
import { attachment, send } from "./inspector-http.js";
import type { ActorKind } from "./machine-catalog.js";
import { type Recordings, recordingRequestOf } from "./recordings.js";

export const RECORDINGS_PATH = "/inspector/api/recordings";

/**
 *   POST /inspector/api/recordings                {kind, key?, duration_ms?, max_events?} → 201 the recording
 *   GET  /inspector/api/recordings                every recording kept, newest first
 *   GET  /inspector/api/recordings/<id>           one recording: status, stop reason, events so far
 *   GET  /inspector/api/recordings/<id>.ndjson    its steps so far, one JSON object a line, as a file
 *   POST /inspector/api/recordings/<id>/stop      ends it now
 * The caller has checked access. Answers true when the path was one of these.
 */
export async function serveRecordings(
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  path: string,
  recordings: Recordings,
  recordable: () => readonly ActorKind[],
): Promise<boolean> {
  const method = request.method ?? "GET";
  const reading = method === "GET" || method === "HEAD";
  if (path === RECORDINGS_PATH) {
    if (method === "POST") {
      const started = recordings.start(recordingRequestOf(await readJsonBody(request, 4096), recordable()));
      sendJson(response, 201, { data: started }, requestId);
      return true;
    }
    if (!reading) throw notAllowed(method, path);
    sendJson(response, 200, { data: recordings.list() }, requestId);
    return true;
  }
  const match = /^\/inspector\/api\/recordings\/(rec_[0-9A-Za-z]+)(\.ndjson|\/stop)?$/.exec(path);
  if (match === null) return false;
  const id = match[1] as string;
  const suffix = match[2];
  if (suffix === "/stop") {
    if (method !== "POST") throw notAllowed(method, path);
    sendJson(response, 200, { data: recordings.stop(id) }, requestId);
    return true;
  }
  if (!reading) throw notAllowed(method, path);
  if (suffix === undefined) {
    sendJson(response, 200, { data: recordings.describe(id) }, requestId);
    return true;
  }
  const { body, fileName, status } = recordings.ndjson(id);
  send(response, 200, "application/x-ndjson; charset=utf-8", body, requestId, {
    "x-recording-status": status,
    ...attachment(fileName),
  });
  return true;
}

const notAllowed = (method: string, path: string) =>
  new AppError("NOT_FOUND", `no inspector route for ${method} ${path}`);
