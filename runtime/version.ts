import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const manifest = require("../package.json") as { name: string; version: string };

/** Name and version of the platform, from package.json. */
export const SERVICE_NAME = manifest.name;
export const SERVICE_VERSION = manifest.version;
