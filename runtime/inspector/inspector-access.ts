import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AppError } from "../errors.js";

/**
 * Who may see the inspector: anyone in dev mode (a developer's own machine: config.ts turns dev mode on by
 * default only on loopback listeners, elsewhere only with ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS); otherwise whoever
 * holds ADMIN_TOKEN, like the ring's admin API, given as `Authorization: Bearer <token>` or, for the page and its
 * WebSocket (a browser cannot set headers on either), `?token=<token>`.
 */
export interface InspectorAccess {
  readonly devMode: boolean;
  readonly adminToken: string | undefined;
}

export function authorizeInspector(request: IncomingMessage, access: InspectorAccess): void {
  if (access.devMode) return;
  if (access.adminToken === undefined) {
    throw new AppError("FORBIDDEN", "the inspector is disabled on this node: set ADMIN_TOKEN to enable it");
  }
  const header = request.headers.authorization ?? "";
  const fromQuery = new URL(request.url ?? "/", "http://localhost").searchParams.get("token") ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : fromQuery);
  const expected = Buffer.from(access.adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError(
      "UNAUTHORIZED",
      "a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN> or ?token=)",
    );
  }
}
