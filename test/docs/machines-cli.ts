import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MACHINES_DIR, machineDocs } from "./machine-docs.js";

/**
 * `npm run machines`: draws every XState machine from its definition into docs/machines/ (Mermaid and SVG,
 * plus an index). `--check` writes nothing and exits 1 listing the files that are stale.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);

if (args.includes("--help")) {
  console.log(`Usage: npm run machines [-- --check]

Draws every state machine (chat sequencer, connection, delivery, reference client) from its XState
definition into ${MACHINES_DIR}/: <name>.mmd (Mermaid stateDiagram-v2), <name>.svg (laid out by dagre)
and README.md (the index).

  --check   write nothing; exit 1 and list the files that differ from what the machines give
  --help    this text`);
  process.exit(0);
}

const unknown = args.filter((arg) => arg !== "--check");
if (unknown.length > 0) {
  console.error(`unknown argument: ${unknown.join(" ")} (see --help)`);
  process.exit(2);
}

const dir = join(ROOT, MACHINES_DIR);
const files = machineDocs();
const present = existsSync(dir) ? readdirSync(dir) : [];
const stale = [...files].filter(([name, text]) => {
  const path = join(dir, name);
  return !existsSync(path) || readFileSync(path, "utf8") !== text;
});
// Drawings of machines that no longer exist are stale too.
const orphans = present.filter((name) => !files.has(name));

if (args.includes("--check")) {
  if (stale.length === 0 && orphans.length === 0) {
    console.log(`${MACHINES_DIR}: ${files.size} files up to date`);
    process.exit(0);
  }
  for (const [name] of stale) console.error(`stale: ${MACHINES_DIR}/${name}`);
  for (const name of orphans) console.error(`not drawn from any machine: ${MACHINES_DIR}/${name}`);
  console.error("run npm run machines");
  process.exit(1);
}

mkdirSync(dir, { recursive: true });
for (const [name, text] of stale) writeFileSync(join(dir, name), text);
for (const name of orphans) rmSync(join(dir, name));
console.log(
  `${MACHINES_DIR}: ${stale.length} written, ${orphans.length} removed, ${files.size - stale.length} unchanged`,
);
