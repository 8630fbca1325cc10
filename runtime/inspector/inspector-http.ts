import type { ServerResponse } from "node:http";

/** Writes a whole answer of the inspector (its page, drawings and downloads), never cached. */
export function send(
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

/**
 * The header that makes a browser save the answer under `fileName` (made of `A-Z a-z 0-9 . _ -` by its callers,
 * so it needs no quoting beyond the quotes).
 */
export const attachment = (fileName: string): Record<string, string> => ({
  "content-disposition": `attachment; filename="${fileName}"`,
});

/** Whether the query asks for a download (`?download`, `?download=1`, `?download=true`). */
export function wantsDownload(params: URLSearchParams): boolean {
  const value = params.get("download");
  return value !== null && value !== "0" && value !== "false";
}
