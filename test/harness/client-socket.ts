import WebSocket from "ws";
import type { ClientEvent } from "./client.machine.js";
import type { AccessToken, ClientLogger } from "./client-options.js";

/**
 * Opens the client's WebSocket with its credentials (CL-01, CL-02) and turns what happens to it into calls:
 * a refused upgrade (HTTP status and the body's `error`, protocol §3), text frames, the close.
 */
export type Rejection = Omit<Extract<ClientEvent, { type: "REJECTED" }>, "type">;

export interface SocketHandlers {
  readonly onRejected: (rejection: Rejection) => void;
  readonly onText: (text: string) => void;
  readonly onClose: (code: number) => void;
}

export function openClientSocket(
  target: { url: string; token: AccessToken; deviceId: string; credentialsInQuery: boolean },
  handlers: SocketHandlers,
  logger: ClientLogger,
): WebSocket {
  let url = target.url;
  const headers: Record<string, string> = {};
  if (target.credentialsInQuery) {
    // Where headers are impossible (browsers); the server redacts `token` from its logs.
    const withQuery = new URL(url);
    withQuery.searchParams.set("token", target.token.accessToken);
    withQuery.searchParams.set("device_id", target.deviceId);
    url = withQuery.toString();
  } else {
    headers.authorization = `Bearer ${target.token.accessToken}`;
    headers["x-device-id"] = target.deviceId;
  }
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });
  let refused = false;
  socket.on("unexpected-response", (request, response) => {
    refused = true;
    let body = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      body += chunk;
    });
    response.on("end", () => {
      request.destroy();
      handlers.onRejected(rejectionOf(response.statusCode ?? 0, body, response.headers["retry-after"]));
    });
  });
  socket.on("message", (data, isBinary) => {
    if (isBinary) logger.warn({}, "binary frame ignored: the protocol is JSON text");
    else handlers.onText(String(data));
  });
  socket.on("error", (error) => logger.debug({ err: error }, "socket error"));
  socket.on("close", (code) => {
    if (!refused) handlers.onClose(code);
  });
  return socket;
}

/** Status, the body's `error`, and the wait a 429 asks for (`details.retry_after_seconds` or Retry-After). */
export function rejectionOf(status: number, body: string, retryAfterHeader: string | undefined): Rejection {
  let error = "unknown";
  let retryAfterSeconds: number | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown; details?: { retry_after_seconds?: unknown } };
    if (typeof parsed.error === "string") error = parsed.error;
    if (typeof parsed.details?.retry_after_seconds === "number")
      retryAfterSeconds = parsed.details.retry_after_seconds;
  } catch {
    // a body that is not JSON leaves only the status to go by
  }
  if (retryAfterSeconds === undefined && retryAfterHeader !== undefined && /^\d+$/.test(retryAfterHeader)) {
    retryAfterSeconds = Number(retryAfterHeader);
  }
  return {
    status,
    error,
    ...(status === 429 && retryAfterSeconds !== undefined ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
  };
}
