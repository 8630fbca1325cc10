import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, publicView } from "../errors.js";

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

/**
 * The JSON object of a request body, at most `maxBytes`; anything else is a client error (413 or 400), never
 * a crash. An empty body reads as `{}`.
 */
export async function readJsonBody(
  request: IncomingMessage,
  maxBytes = 64 * 1024,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) {
      throw new AppError("PAYLOAD_TOO_LARGE", `the request body is over ${maxBytes} bytes`, {
        details: { max_bytes: maxBytes },
      });
    }
    chunks.push(buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new AppError("BAD_REQUEST", "the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError("BAD_REQUEST", "the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
