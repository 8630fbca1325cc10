import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createMachine } from "xstate";
import { machineGraph, transitionLabel } from "../../runtime/inspector/machine-graph.js";
import { toMermaid } from "../../runtime/inspector/machine-mermaid.js";
import { toSvg } from "../../runtime/inspector/machine-svg.js";
import { MACHINES_DIR, machineDocs } from "./machine-docs.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIR = join(ROOT, MACHINES_DIR);

/** A small machine with every construct the drawings handle: nesting, parallel regions, guards, timers. */
const tinyMachine = (extraEvent?: string) =>
  createMachine({
    id: "tiny",
    initial: "off",
    states: {
      off: {
        on: { SWITCH: "on", ...(extraEvent === undefined ? {} : { [extraEvent]: "broken" }) },
      },
      on: {
        type: "parallel",
        on: { SWITCH: "off" },
        states: {
          light: {
            initial: "dim",
            states: {
              dim: { on: { BRIGHTER: { target: "bright", guard: "notTooBright" } } },
              bright: { after: { 1000: "dim" } },
            },
          },
          fan: {
            initial: "idle",
            states: { idle: { always: { target: "spinning", guard: "hot" } }, spinning: {} },
          },
        },
      },
      broken: { type: "final" },
    },
  });

const drawings = (machine: ReturnType<typeof tinyMachine>) => {
  const graph = machineGraph(machine);
  return { mermaid: toMermaid(graph, "Tiny", "tiny.ts"), svg: toSvg(graph, "Tiny") };
};

describe("machine diagrams", () => {
  it("docs/machines holds exactly what the machines give today (else: run npm run machines)", () => {
    const expected = machineDocs();
    const stale: string[] = [];
    for (const [name, text] of expected) {
      const path = join(DIR, name);
      if (!existsSync(path) || readFileSync(path, "utf8") !== text) stale.push(name);
    }
    const orphans = existsSync(DIR) ? readdirSync(DIR).filter((name) => !expected.has(name)) : [];
    expect(
      { stale, orphans },
      `docs/machines is stale (${[...stale, ...orphans].join(", ")}): run npm run machines`,
    ).toEqual({ stale: [], orphans: [] });
  });

  it("draws the same bytes every time for the same machine", () => {
    expect(machineDocs()).toEqual(machineDocs());
  });

  it("a changed machine definition changes both drawings", () => {
    const before = drawings(tinyMachine());
    const after = drawings(tinyMachine("BREAK"));
    expect(after.mermaid).not.toBe(before.mermaid);
    expect(after.svg).not.toBe(before.svg);
    expect(after.mermaid).toContain("off --> broken: BREAK");
    expect(before.mermaid).not.toContain("BREAK");
    expect(after.svg).toContain(">BREAK</text>");
  });

  it("reads states, nesting, parallel regions, guards, delays and eventless transitions from the definition", () => {
    const graph = machineGraph(tinyMachine("BREAK"));
    expect(graph.root.children.map((state) => [state.path, state.kind])).toEqual([
      ["off", "atomic"],
      ["on", "parallel"],
      ["broken", "final"],
    ]);
    expect(graph.root.initial).toBe("tiny.off");
    expect(graph.transitions.map((t) => `${t.source} -> ${t.target}: ${transitionLabel(t)}`)).toEqual([
      "tiny.off -> tiny.on: SWITCH",
      "tiny.off -> tiny.broken: BREAK",
      "tiny.on -> tiny.off: SWITCH",
      "tiny.on.light.dim -> tiny.on.light.bright: BRIGHTER [notTooBright]",
      "tiny.on.light.bright -> tiny.on.light.dim: after 1000ms",
      "tiny.on.fan.idle -> tiny.on.fan.spinning: always [hot]",
    ]);
    const { mermaid, svg } = drawings(tinyMachine("BREAK"));
    expect(mermaid).toContain("stateDiagram-v2");
    expect(mermaid).toContain("[*] --> off");
    expect(mermaid).toContain("broken --> [*]");
    // Parallel regions are separated by `--` inside their parent.
    expect(mermaid).toMatch(/state on \{[\s\S]*\n {4}--\n[\s\S]*\}/);
    expect(svg).toContain('data-state="on.light.dim"');
    expect(svg).toContain('class="cluster region"');
    expect(svg).toContain('class="state final"');
    expect(svg).toContain('<circle class="initial"');
  });

  it("the drawn connection machine keeps its heartbeat re-entry and every way to close", () => {
    const mermaid = readFileSync(join(DIR, "connection.mmd"), "utf8");
    expect(mermaid).toContain(
      "established_liveness_alive --> established_liveness_alive: HEARTBEAT (re-enter)",
    );
    expect(mermaid).toContain("established --> closing: after tokenExpiry");
    expect(mermaid).toContain("closing --> closed: after closeTimeout");
  });
});
