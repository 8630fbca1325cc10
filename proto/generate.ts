import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENERATED_DIR, GENERATOR_FLAGS, PROTO_FILES, PROTO_ROOT } from "./definitions.js";

/**
 * Generates TypeScript types for proto/messaging/v1/*.proto into proto/generated (committed, so the type
 * checker sees them without a build step; test/contract/proto.test.ts fails when they are stale).
 * Usage: npm run proto:gen [-- --out <dir>]
 */
const require = createRequire(import.meta.url);

export function generateProtoTypes(outDir: string): void {
  const generator = require.resolve("@grpc/proto-loader/build/bin/proto-loader-gen-types.js");
  execFileSync(
    process.execPath,
    [generator, ...GENERATOR_FLAGS, "-I", PROTO_ROOT, "-O", outDir, ...PROTO_FILES],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts")) normalise(join(entry.parentPath, entry.name));
  }
}

/**
 * Makes the output valid under NodeNext resolution (explicit `.js` on relative imports) and independent of
 * the checkout's location (the generator writes absolute source paths into comments).
 */
function normalise(file: string): void {
  const text = readFileSync(file, "utf8")
    .replace(/from '(\.{1,2}\/[^']+?)(?<!\.js)'/g, "from '$1.js'")
    .replaceAll(`${PROTO_ROOT}/`, "proto/");
  writeFileSync(file, text);
}

/** Generates into a temporary folder and returns it; the caller removes it. */
export function generateToTemp(): string {
  const dir = mkdtempSync(join(tmpdir(), "proto-gen-"));
  generateProtoTypes(dir);
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes("--help")) {
    console.log(
      "Usage: npm run proto:gen [-- --out <dir>]\nWrites TypeScript types of proto/messaging/v1 to proto/generated.",
    );
    process.exit(0);
  }
  const outIndex = args.indexOf("--out");
  const out = outIndex >= 0 ? (args[outIndex + 1] ?? GENERATED_DIR) : GENERATED_DIR;
  if (out === GENERATED_DIR) rmSync(GENERATED_DIR, { recursive: true, force: true });
  generateProtoTypes(out);
  console.log(`proto types written to ${out}`);
}
