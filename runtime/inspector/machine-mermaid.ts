import {
  type GraphState,
  type GraphTransition,
  type MachineGraph,
  statesOf,
  transitionLabel,
} from "./machine-graph.js";

/**
 * A machine graph as Mermaid `stateDiagram-v2` text. States are declared first, nested as in the machine
 * (parallel regions separated by `--`), with the initial and final markers inside their parent; every
 * transition follows at the top level, so an arrow between states of different parents never declares a
 * state in the wrong place.
 */
export function toMermaid(graph: MachineGraph, title: string, source: string): string {
  const ids = mermaidIds(graph);
  const idOf = (stateId: string) => ids.get(stateId) ?? stateId;
  const lines = [
    "---",
    `title: ${title}`,
    "---",
    "stateDiagram-v2",
    `  %% Drawn from ${source} by npm run machines; do not edit.`,
  ];
  declareChildren(graph.root, 1, lines, idOf);
  for (const transition of graph.transitions) lines.push(`  ${arrow(transition, idOf)}`);
  return `${lines.join("\n")}\n`;
}

function declareChildren(
  parent: GraphState,
  depth: number,
  lines: string[],
  idOf: (stateId: string) => string,
): void {
  const indent = "  ".repeat(depth);
  if (parent.initial !== undefined) lines.push(`${indent}[*] --> ${idOf(parent.initial)}`);
  parent.children.forEach((child, index) => {
    if (parent.kind === "parallel" && index > 0) lines.push(`${indent}--`);
    const id = idOf(child.id);
    if (id !== child.key) lines.push(`${indent}state "${child.key}" as ${id}`);
    if (child.children.length > 0) {
      lines.push(`${indent}state ${id} {`);
      declareChildren(child, depth + 1, lines, idOf);
      lines.push(`${indent}}`);
    } else if (id === child.key) {
      lines.push(`${indent}${id}`);
    }
    if (child.kind === "final") lines.push(`${indent}${id} --> [*]`);
  });
}

function arrow(transition: GraphTransition, idOf: (stateId: string) => string): string {
  const note = transition.targetless ? " (no target)" : transition.reenter ? " (re-enter)" : "";
  return `${idOf(transition.source)} --> ${idOf(transition.target)}: ${transitionLabel(transition)}${note}`;
}

/**
 * Mermaid ids are global: a state is named by its path joined with `_` (`ready_idle`), made unique and
 * limited to the characters Mermaid accepts.
 */
function mermaidIds(graph: MachineGraph): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const state of statesOf(graph)) {
    if (state.path === "") continue;
    const base = state.path.replace(/[^A-Za-z0-9_]/g, "_");
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(state.id, id);
  }
  return ids;
}
