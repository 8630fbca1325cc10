import dagre from "@dagrejs/dagre";
import { type GraphState, type MachineGraph, statesOf, transitionLabel } from "./machine-graph.js";
import type { Box, Point } from "./svg-geometry.js";

/**
 * Where dagre puts a machine's states and arrows (deterministic: the same graph gives the same places). Atomic
 * states are boxes sized to their name; compound and parallel states are clusters around their children;
 * each initial state gets a dot; transitions between the same two states share one arrow with one label
 * line per transition.
 */
/** Advance of one character of a monospace font at 12px (measured width ~0.6 em), rounded up. */
const CHAR_PX = 7.4;
export const LINE_PX = 15;
const STATE_HEIGHT = 34;
export const INITIAL_SIZE = 12;
const CLUSTER_LABEL_PX = 22;

export interface Arrow {
  source: string;
  target: string;
  lines: string[];
  /** Dashed when every transition on it is targetless (nothing is exited or entered). */
  targetless: boolean;
}

/** One laid-out arrow: dagre's route and label place, and what it carries. */
export interface LaidOutEdge {
  readonly v: string;
  readonly w: string;
  readonly points: Point[];
  readonly x: number;
  readonly y: number;
  readonly arrow: Arrow;
}

export interface MachineLayout {
  /** Every state, parents first, in definition order. */
  readonly states: readonly GraphState[];
  readonly byId: ReadonlyMap<string, GraphState>;
  readonly parentOf: ReadonlyMap<string, GraphState>;
  readonly edges: readonly LaidOutEdge[];
  /** The box of a laid-out node: an atomic state, a cluster's children, or an initial dot. */
  boxOf(id: string): Box;
  /** A cluster's box, with room for its name above its children. */
  clusterBox(state: GraphState): Box;
}

export const textWidth = (text: string) => Math.ceil(text.length * CHAR_PX);
export const isCluster = (state: GraphState) => state.children.length > 0;
export const initialNode = (state: GraphState) => `initial:${state.id}`;

export function layOut(graph: MachineGraph): MachineLayout {
  const states = statesOf(graph);
  const byId = new Map(states.map((state) => [state.id, state]));
  const parentOf = new Map<string, GraphState>();
  for (const state of states) for (const child of state.children) parentOf.set(child.id, state);

  const layout = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  layout.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 44, edgesep: 16, marginx: 16, marginy: 16 });
  layout.setDefaultEdgeLabel(() => ({}));

  for (const state of states) {
    if (state === graph.root) continue;
    if (isCluster(state)) layout.setNode(state.id, { width: 0, height: 0 });
    else layout.setNode(state.id, { width: Math.max(textWidth(state.key) + 28, 72), height: STATE_HEIGHT });
    const parent = parentOf.get(state.id);
    if (parent !== undefined && parent !== graph.root) layout.setParent(state.id, parent.id);
  }
  for (const state of states) {
    if (state.initial === undefined) continue;
    layout.setNode(initialNode(state), { width: INITIAL_SIZE, height: INITIAL_SIZE });
    if (state !== graph.root) layout.setParent(initialNode(state), state.id);
  }

  // dagre cannot route to a cluster: an arrow from or to a compound state is laid out to a leaf inside it
  // (the one entered by default) and cut at the cluster's border afterwards.
  const proxy = (state: GraphState): string => {
    if (!isCluster(state)) return state.id;
    const next = (state.initial === undefined ? undefined : byId.get(state.initial)) ?? state.children[0];
    return next === undefined ? state.id : proxy(next);
  };
  const arrows = new Map<string, Arrow>();
  const addArrow = (source: string, target: string, line: string, targetless: boolean) => {
    const key = `${source}\u0000${target}`;
    const known = arrows.get(key);
    if (known === undefined) arrows.set(key, { source, target, lines: [line], targetless });
    else {
      known.lines.push(line);
      known.targetless &&= targetless;
    }
  };
  for (const state of states) {
    if (state.initial !== undefined) addArrow(initialNode(state), state.initial, "", false);
  }
  for (const transition of graph.transitions) {
    const note = transition.targetless ? " (no target)" : transition.reenter ? " (re-enter)" : "";
    addArrow(
      transition.source,
      transition.target,
      `${transitionLabel(transition)}${note}`,
      transition.targetless,
    );
  }
  const layoutEnd = (id: string) => {
    const state = byId.get(id);
    return state === undefined ? id : proxy(state);
  };
  // Named edges: arrows of a cluster and of the leaf standing in for it share their laid-out ends.
  for (const [name, arrow] of arrows) {
    const labelled = arrow.lines.some((line) => line !== "");
    layout.setEdge(
      layoutEnd(arrow.source),
      layoutEnd(arrow.target),
      {
        width: labelled ? Math.max(...arrow.lines.map(textWidth)) + 8 : 0,
        height: labelled ? arrow.lines.length * LINE_PX + 4 : 0,
        labelpos: "c",
        arrow,
      },
      name,
    );
  }

  dagre.layout(layout);

  const boxOf = (id: string): Box => {
    const node = layout.node(id) as { x: number; y: number; width: number; height: number };
    return {
      x: node.x - node.width / 2,
      y: node.y - node.height / 2,
      width: node.width,
      height: node.height,
    };
  };
  // Clusters get room for their name above their children.
  const clusterBox = (state: GraphState): Box => {
    const box = boxOf(state.id);
    const width = Math.max(box.width, textWidth(state.key) + 40);
    return {
      x: box.x - (width - box.width) / 2,
      y: box.y - CLUSTER_LABEL_PX,
      width,
      height: box.height + CLUSTER_LABEL_PX,
    };
  };
  const edges = layout.edges().map((edge: { v: string; w: string }) => {
    const label = layout.edge(edge) as { points: Point[]; x: number; y: number; arrow: Arrow };
    return { v: edge.v, w: edge.w, points: label.points, x: label.x, y: label.y, arrow: label.arrow };
  });
  return { states, byId, parentOf, edges, boxOf, clusterBox };
}
