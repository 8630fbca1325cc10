/** The mapping moved beside the limits it fills (./limits.ts); this name stays for existing importers. */
export { gatewayLimitsFromConfig } from "./limits.js";
