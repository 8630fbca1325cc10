/** The connection plane: one factory, its dependencies, and the key sources for token verification. */
export { gatewayLimitsFromConfig } from "./config.js";
export { createGateway, type Gateway, type GatewayDeps } from "./gateway.js";
export { inProcessJwks, type JwtKeySource, remoteJwks } from "./jwt-keys.js";
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "./limits.js";
export type { SessionCheck } from "./session-liveness.js";
