import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { openApiDocument } from "../../chatmgmt/rest/openapi/document.js";

/**
 * `npm run openapi`: writes the OpenAPI document that `GET /api/v1/openapi.json` serves to
 * docs/api/openapi.json (formatted by biome, like every JSON file of the repository). `--check` writes
 * nothing and exits 1 when the file says something else than the code (formatting aside).
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const OPENAPI_FILE = "docs/api/openapi.json";
const args = process.argv.slice(2);

if (args.includes("--help")) {
  console.log(`Usage: npm run openapi [-- --check]

Generates the OpenAPI 3.1 document of REST /api/v1 from chat management's zod schemas (the one
GET /api/v1/openapi.json serves) into ${OPENAPI_FILE}.

  --check   write nothing; exit 1 when ${OPENAPI_FILE} differs from what the code gives
  --help    this text`);
  process.exit(0);
}
const unknown = args.filter((arg) => arg !== "--check");
if (unknown.length > 0) {
  console.error(`unknown argument: ${unknown.join(" ")} (see --help)`);
  process.exit(2);
}

const path = join(ROOT, OPENAPI_FILE);
const document = JSON.parse(JSON.stringify(openApiDocument())) as unknown;
const current = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as unknown) : undefined;
const upToDate = isDeepStrictEqual(current, document);

if (args.includes("--check")) {
  if (upToDate) {
    console.log(`${OPENAPI_FILE}: up to date`);
    process.exit(0);
  }
  console.error(`stale: ${OPENAPI_FILE}; run npm run openapi`);
  process.exit(1);
}

if (upToDate) {
  console.log(`${OPENAPI_FILE}: unchanged`);
} else {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  execFileSync(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", OPENAPI_FILE], {
    cwd: ROOT,
    stdio: "ignore",
  });
  console.log(`${OPENAPI_FILE}: written`);
}
