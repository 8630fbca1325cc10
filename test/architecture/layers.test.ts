import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cruise, type IConfiguration, type IReporterOutput } from "dependency-cruiser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The layer rules of .dependency-cruiser.cjs (run over the repository by `npm test`'s static checks) must
 * each catch what they forbid: a rule whose pattern matched nothing would pass forever. Each case below is
 * a small tree with one forbidden import, cruised with the repository's own rules.
 */
const ROOT = join(import.meta.dirname, "..", "..");
const config = createRequire(import.meta.url)(join(ROOT, ".dependency-cruiser.cjs")) as IConfiguration;

/** Files of a fixture tree: path → the modules it imports (relative to the tree's root). */
type Tree = Record<string, readonly string[]>;

/** A clean tree: every allowed direction once. */
const ALLOWED: Tree = {
  "proto/load.ts": [],
  "runtime/ports/store.ts": ["proto/load.ts"],
  "runtime/adapters/kafka/log.ts": ["runtime/ports/store.ts", "kafkajs"],
  "actors/sequencer.ts": ["runtime/ports/store.ts"],
  "gateway/connection.ts": ["actors/sequencer.ts", "runtime/ports/store.ts"],
  "chatmgmt/chats.ts": ["runtime/ports/store.ts"],
  "app/main.ts": ["gateway/connection.ts", "chatmgmt/chats.ts", "runtime/adapters/kafka/log.ts"],
  "deploy/local/cluster.ts": ["app/main.ts"],
  "test/support/fixture.ts": ["app/main.ts", "deploy/local/cluster.ts", "kafkajs"],
  "gateway/connection.test.ts": ["test/support/fixture.ts"],
};

const CASES: ReadonlyArray<{ rule: string; tree: Tree }> = [
  { rule: "proto-is-the-bottom", tree: { "proto/load.ts": ["runtime/ports/store.ts"] } },
  { rule: "runtime-is-the-substrate", tree: { "runtime/ports/store.ts": ["actors/sequencer.ts"] } },
  { rule: "runtime-is-the-substrate", tree: { "runtime/ports/store.ts": ["app/main.ts"] } },
  { rule: "actors-below-the-edges", tree: { "actors/sequencer.ts": ["gateway/connection.ts"] } },
  { rule: "gateway-is-a-plane", tree: { "gateway/connection.ts": ["chatmgmt/chats.ts"] } },
  { rule: "chatmgmt-is-a-plane", tree: { "chatmgmt/chats.ts": ["gateway/connection.ts"] } },
  { rule: "chatmgmt-is-a-plane", tree: { "chatmgmt/chats.ts": ["actors/sequencer.ts"] } },
  { rule: "app-is-the-root", tree: { "app/main.ts": ["test/support/fixture.ts"] } },
  { rule: "deploy-is-tooling", tree: { "deploy/local/cluster.ts": ["test/support/fixture.ts"] } },
  { rule: "no-test-code-in-production", tree: { "app/main.ts": ["gateway/connection.test.ts"] } },
  { rule: "engine-sdks-only-in-adapters", tree: { "actors/sequencer.ts": ["kafkajs"] } },
  { rule: "engine-sdks-only-in-adapters", tree: { "chatmgmt/chats.ts": ["@aws-sdk/client-dynamodb"] } },
  {
    rule: "no-cycles",
    tree: {
      "runtime/ports/store.ts": ["runtime/ports/other.ts"],
      "runtime/ports/other.ts": ["runtime/ports/store.ts"],
    },
  },
];

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "layers-"));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

let treeCount = 0;

/** Writes `{...ALLOWED, ...changes}` as TypeScript files, cruises it with the repository's rules. */
async function violationsOf(changes: Tree): Promise<string[]> {
  const root = join(scratch, `tree-${treeCount++}`);
  const tree = { ...ALLOWED, ...changes };
  for (const [file, imports] of Object.entries(tree)) {
    const path = join(root, file);
    mkdirSync(dirname(path), { recursive: true });
    const lines = imports.map((target, i) => {
      const specifier = target.endsWith(".ts") ? relativeSpecifier(file, target) : target;
      return `import * as m${i} from "${specifier}";\nexport const use${i} = m${i};`;
    });
    writeFileSync(path, `${lines.join("\n")}\nexport const here = ${JSON.stringify(file)};\n`);
  }
  // The engine SDKs resolve from the repository's node_modules, as they do for the real tree.
  const output: IReporterOutput = await cruise(
    Object.keys(tree)
      .map((file) => file.split("/")[0] as string)
      .filter((v, i, a) => a.indexOf(v) === i),
    {
      ...config.options,
      ruleSet: { forbidden: config.forbidden ?? [] },
      baseDir: root,
      tsConfig: undefined,
      validate: true,
    },
    { extensions: [".ts", ".js"], modules: [join(ROOT, "node_modules")] },
  );
  if (typeof output.output === "string") throw new Error(output.output);
  return output.output.summary.violations.map((violation) => violation.rule.name);
}

function relativeSpecifier(from: string, to: string): string {
  const up = from.split("/").length - 1;
  const prefix = up === 0 ? "./" : "../".repeat(up);
  return `${prefix}${to.replace(/\.ts$/, ".js")}`;
}

describe("the layer rules (.dependency-cruiser.cjs)", () => {
  it("accept a tree where every import goes down the layers", async () => {
    expect(await violationsOf({})).toEqual([]);
  });

  it.each(CASES.map((c) => [c.rule, Object.entries(c.tree)[0]?.join(" → "), c.tree] as const))(
    "%s catches %s",
    async (rule, _label, tree) => {
      expect(await violationsOf(tree)).toContain(rule);
    },
  );
});
