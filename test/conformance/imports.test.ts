import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * spec/planes-ops-security-testing.md §6: "The harness is external. It uses only public interfaces (WS, REST,
 * metrics, Kafka reads) and never imports service code." Every import of every file under test/conformance/
 * must stay inside test/conformance/ or name an allowed package; anything else fails this test.
 */
const HERE = dirname(fileURLToPath(import.meta.url));

/** Packages a black-box client may use: protocol clients and test tooling, nothing of the platform. */
const ALLOWED_PACKAGES = new Set(["vitest", "ws", "kafkajs", "jose"]);

/** Every module specifier a TypeScript source names: static imports, re-exports, dynamic imports, require. */
function specifiersOf(source: string): string[] {
  const patterns = [
    /^\s*import\s+(?:type\s+)?[^"'`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /^\s*export\s+(?:type\s+)?[^"'`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
    /\brequire\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
  ];
  const found: string[] = [];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1] ?? "");
  return found;
}

/** Why `specifier` in `file` escapes the black box, or undefined when it is allowed. */
function violation(file: string, specifier: string, root: string = HERE): string | undefined {
  if (specifier.startsWith("node:")) return undefined;
  if (specifier.startsWith(".") || specifier.startsWith("/")) {
    const target = resolve(dirname(file), specifier);
    const inside = target === root || target.startsWith(`${root}${sep}`);
    return inside ? undefined : `imports ${relative(root, target)} from outside test/conformance/`;
  }
  const name = specifier.startsWith("@")
    ? specifier.split("/").slice(0, 2).join("/")
    : specifier.split("/")[0];
  if (name !== undefined && ALLOWED_PACKAGES.has(name)) return undefined;
  return `imports the package "${specifier}", which is not a black-box client package`;
}

function sourcesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return /\.(?:[cm]?ts|[cm]?js)$/.test(entry.name) ? [path] : [];
  });
}

describe("conformance: the suite is black-box (testing spec §6)", () => {
  it("§6 no file under test/conformance/ imports service code (runtime/, actors/, gateway/, chatmgmt/, deploy/, other test helpers)", () => {
    const files = sourcesUnder(HERE);
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((file) =>
      specifiersOf(readFileSync(file, "utf8")).flatMap((specifier) => {
        const why = violation(file, specifier);
        return why === undefined ? [] : [`${relative(HERE, file)}: ${why}`];
      }),
    );
    expect(problems).toEqual([]);
  });

  it("the scanner catches every way out (so the rule above can fail)", () => {
    const file = join(HERE, "support", "example.ts");
    // Lines are assembled at run time, so this file's own source holds no import of them.
    const q = '"';
    const forms: Record<string, (specifier: string) => string> = {
      named: (s) => `import { thing } from ${q}${s}${q};`,
      type: (s) => `import type { Thing } from ${q}${s}${q};`,
      reexport: (s) => `export { thing } from ${q}${s}${q};`,
      dynamic: (s) => `const m = await import(${q}${s}${q});`,
      bare: (s) => `import ${q}${s}${q};`,
      require: (s) => `const m = require(${q}${s}${q});`,
    };
    const escapes: Array<[string, string]> = [
      ["named", "../../../runtime/config.js"],
      ["type", "../../runtime/ids.js"],
      ["reexport", "../../gateway/gateway.js"],
      ["dynamic", "../support/../../harness/client.js"],
      ["bare", "../../../chatmgmt/index.js"],
      ["require", "../../../actors/index.js"],
      ["named", "../../support/engines.js"],
      ["named", "ioredis"],
      ["named", "@aws-sdk/client-dynamodb"],
    ];
    for (const [form, specifier] of escapes) {
      const line = forms[form]?.(specifier) ?? "";
      expect(specifiersOf(line), line).toEqual([specifier]);
      expect(violation(file, specifier), line).toBeDefined();
    }
    const allowed = ["./ws-client.js", "../support/world.js", "ws", "kafkajs", "node:fs", "vitest", "jose"];
    for (const specifier of allowed) {
      const line = forms.named?.(specifier) ?? "";
      expect(specifiersOf(line), line).toEqual([specifier]);
      expect(violation(file, specifier), line).toBeUndefined();
    }
  });
});
