import type { IncomingMessage } from "node:http";
import { clientAddress, type TrustedProxies } from "../runtime/http/client-address.js";

/**
 * The address an upgrade request counts against for the per-address connection cap: the same rule as the
 * REST per-IP limits (runtime/http/client-address.ts), so `X-Forwarded-For` is believed only through the
 * proxies named by TRUSTED_PROXIES.
 */
export function clientAddressOf(request: IncomingMessage, trustedProxies: TrustedProxies): string {
  return clientAddress(request.socket.remoteAddress, request.headers["x-forwarded-for"], trustedProxies);
}
