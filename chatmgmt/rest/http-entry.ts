import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../../runtime/errors.js";
import { sendError } from "../../runtime/http/json.js";
import type { Route } from "../../runtime/http/server.js";
import type { RestRequest } from "./request.js";

/** Spec §1: request bodies up to 64 KiB; more is 413 with `Retry-After: 0`. */
const MAX_BODY_BYTES = 65_536;

/**
 * The paths chat management answers: all of REST `/api/v1` (its root, its resources, and the error envelope
 * with `X-RateLimit-*` for unknown paths under it) and the JWKS; everything else is left to the platform's
 * other routes.
 */
const OWNED = /^\/(?:api\/v1(?:\/|$)|\.well-known\/jwks\.json$)/;

export const ownsPath = (url: string | undefined): boolean => OWNED.test((url ?? "/").split("?")[0] ?? "/");

/**
 * The Route that hands chat management's paths to the NestJS (express) app on the process's shared HTTP
 * server. The body is read and parsed here, before Nest, so that size and JSON errors get the one error
 * envelope like every other error.
 */
export function chatManagementRoute(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  /**
   * Counts a request refused here (before routing, so before any other limit) against its client's IP and
   * sets the `X-RateLimit-*` headers; answers the error to send (RATE_LIMITED when over that limit).
   */
  limitRefused: (request: IncomingMessage, response: ServerResponse, error: AppError) => Promise<AppError>,
): Route {
  return async (request, response, requestId) => {
    if (!ownsPath(request.url)) return false;
    const restRequest = request as RestRequest;
    restRequest.requestId = requestId;
    response.setHeader("x-request-id", requestId);
    try {
      restRequest.body = await readJsonBody(request);
    } catch (error) {
      if (error instanceof AppError) {
        const answer = await limitRefused(request, response, error);
        // The rest of an oversized body is never read: the connection cannot be reused.
        if (error.code === "PAYLOAD_TOO_LARGE") response.setHeader("connection", "close");
        if (answer.code === "PAYLOAD_TOO_LARGE") response.setHeader("retry-after", "0");
        sendError(response, answer, requestId);
        return true;
      }
      throw error;
    }
    handle(request, response);
    return true;
  };
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    received += buffer.length;
    if (received > MAX_BODY_BYTES) throw tooLarge(received);
    chunks.push(buffer);
  }
  if (received === 0) return undefined;
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError("BAD_REQUEST", "request bodies must be application/json", {
      details: { content_type: type },
    });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new AppError("BAD_REQUEST", "the request body is not valid JSON");
  }
}

const tooLarge = (received: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `request bodies are limited to ${MAX_BODY_BYTES} bytes`, {
    details: { max_bytes: MAX_BODY_BYTES, received_bytes: received },
  });
