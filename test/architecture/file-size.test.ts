import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * STYLE.md: one concept per file, split before a file passes ~400 lines. This holds every production source of
 * the planes to it, so a file that grows past the limit fails `npm test` instead of waiting for a review: split
 * it along its seams (a step, a state, a view) and give each part a header comment.
 */
const ROOT = join(import.meta.dirname, "..", "..");
const MAX_LINES = 400;
/** Where production code lives (test/ and the tooling's own scripts are not held to it). */
const PLANES = ["app", "runtime", "actors", "gateway", "chatmgmt", "proto", "deploy"] as const;
const SOURCE = /\.(ts|js)$/;
const TEST = /\.test\.ts$/;

/** Files and folders that may be longer, each with the reason. Paths are relative to the repository. */
const EXEMPT: ReadonlyMap<string, string> = new Map([
  // Written by `npm run proto:gen` from the .proto files; nobody reads or edits it by hand.
  ["proto/generated", "generated code"],
  // The option table: one declaration per environment variable (name, schema with its default, the doc
  // comment) is the single place each option is documented and validated (STYLE.md: configuration validated
  // once against a schema that holds the defaults). Splitting it by topic would scatter that one table.
  ["runtime/config.ts", "the option table"],
]);

/** Every source file under `folder`, relative to the repository; dependencies and hidden folders skipped. */
function sourcesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.name.startsWith(".") || entry.name === "node_modules" || EXEMPT.has(path)) continue;
    if (entry.isDirectory()) found.push(...sourcesUnder(path));
    else if (entry.isFile() && SOURCE.test(entry.name) && !TEST.test(entry.name)) found.push(path);
  }
  return found;
}

/** Lines as `wc -l` counts them: a final line without a newline counts too. */
function linesOf(path: string): number {
  const text = readFileSync(join(ROOT, path), "utf8");
  const newlines = text.split("\n").length - 1;
  return text.endsWith("\n") || text === "" ? newlines : newlines + 1;
}

describe("file size", () => {
  const sources = PLANES.flatMap((plane) => sourcesUnder(plane));

  it(`no production source file is longer than ${MAX_LINES} lines`, () => {
    const tooLong = sources
      .map((path) => ({ path, lines: linesOf(path) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ path, lines }) => `${path}: ${lines} lines`);
    expect(tooLong, `split these along their seams (STYLE.md)`).toEqual([]);
  });

  it("looks where production code is: every plane, .ts and .js alike", () => {
    for (const plane of PLANES)
      expect(
        sources.some((path) => path.startsWith(`${plane}/`)),
        plane,
      ).toBe(true);
    expect(sources).toContain("app/platform.ts");
    expect(sources).toContain("chatmgmt/web/messenger.js");
    expect(sources.some((path) => TEST.test(path))).toBe(false);
  });

  it("exempts only what exists, so a stale exemption does not linger", () => {
    for (const exempt of EXEMPT.keys()) {
      expect(existsSync(join(ROOT, exempt)), exempt).toBe(true);
      const covered = sources.filter((path) => path === exempt || path.startsWith(`${exempt}/`));
      expect(covered, exempt).toEqual([]);
    }
  });
});
