/** The connection plane: one factory, its dependencies, and the key sources for token verification. */
export { createGateway, type Gateway, type GatewayDeps } from "./gateway.js";
export { inProcessJwks, type JwtKeySource, remoteJwks } from "./jwt-keys.js";
export { type GatewayLimits, gatewayLimitsFromConfig } from "./limits.js";
export type { SessionCheck } from "./session-liveness.js";
