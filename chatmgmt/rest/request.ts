import type { IncomingMessage } from "node:http";
import { createParamDecorator, type ExecutionContext } from "@nestjs/common";
import { AppError } from "../../runtime/errors.js";
import { clientAddress, TrustedProxies } from "../../runtime/http/client-address.js";
import type { Caller } from "../auth/sessions.js";

/** What the REST entry and the auth guard attach to a request. */
export interface RestRequest extends IncomingMessage {
  requestId?: string;
  caller?: Caller;
  body?: unknown;
  query?: Record<string, unknown>;
}

/** The authenticated caller (set by AuthGuard). */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<RestRequest>().caller;
  if (caller === undefined) throw new AppError("UNAUTHORIZED", "authentication required");
  return caller;
});

/** A header's single value, or undefined. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** One matcher per configured list (the configuration is loaded once, so this holds one entry). */
const matchers = new WeakMap<readonly string[], TrustedProxies>();

/**
 * The address the per-IP limits count: the socket's peer, or, when that peer is one of TRUSTED_PROXIES, the
 * first untrusted address of `X-Forwarded-For` from the right (runtime/http/client-address.ts).
 */
export function clientIp(request: IncomingMessage, trustedProxies: readonly string[]): string {
  let matcher = matchers.get(trustedProxies);
  if (matcher === undefined) {
    matcher = new TrustedProxies(trustedProxies);
    matchers.set(trustedProxies, matcher);
  }
  return clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], matcher);
}
