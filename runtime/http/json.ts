import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AppError, publicView } from "../errors.js";

/** The request id of REST responses: the client's `X-Request-ID` when it is sane, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(given) ? given : randomUUID();
}

export function sendJson(response: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "x-request-id": requestId,
    "cache-control": "no-store",
  });
  response.end(text);
}

/** The REST error envelope (spec/rest-data-auth-chats.md §1): `{error: {code, message, details?, request_id}}`. */
export function sendError(response: ServerResponse, error: AppError, requestId: string): void {
  const view = publicView(error);
  sendJson(
    response,
    error.public ? error.httpStatus : view.code === "SERVICE_UNAVAILABLE" ? 503 : 500,
    { error: { ...view, request_id: requestId } },
    requestId,
  );
}
