import type { AnyStateMachine } from "xstate";
import { type DirectedGraphNode, toDirectedGraph } from "xstate/graph";

/**
 * The structure of an XState machine as the diagrams and the inspector draw it, read from the machine's own
 * definition (`xstate/graph`), never written by hand. Order is the definition's order (states and
 * transitions as declared), so the same machine always yields the same graph and the same files.
 */
export type StateKind = "atomic" | "compound" | "parallel" | "final" | "history";

export interface GraphState {
  /** XState's id: the machine id and the path, dotted (`chatSequencer.ready.idle`). */
  readonly id: string;
  /** The path below the root, dotted (`ready.idle`); "" for the root. It is what snapshots report. */
  readonly path: string;
  readonly key: string;
  readonly kind: StateKind;
  /** The id of the child entered by default (compound states). */
  readonly initial: string | undefined;
  readonly children: readonly GraphState[];
}

export type Trigger =
  | { readonly kind: "event"; readonly event: string }
  | { readonly kind: "after"; readonly delay: string }
  | { readonly kind: "always" };

export interface GraphTransition {
  readonly source: string;
  /** The target state's id; the source's own id for a transition without a target. */
  readonly target: string;
  readonly trigger: Trigger;
  /** The guard's name, `guard` for an inline one, undefined when unguarded. */
  readonly guard: string | undefined;
  /** No target: actions run, the state stays (nothing is exited or entered). */
  readonly targetless: boolean;
  /** A self-transition that exits and re-enters its state (restarting its timers). */
  readonly reenter: boolean;
}

export interface MachineGraph {
  /** The machine's id (`connection`). */
  readonly id: string;
  readonly root: GraphState;
  readonly transitions: readonly GraphTransition[];
}

type StateNodeLike = DirectedGraphNode["stateNode"];
type TransitionLike = DirectedGraphNode["edges"][number]["transition"];

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const directed = toDirectedGraph(machine);
  const transitions: GraphTransition[] = [];
  const root = walk(directed, directed.id, transitions);
  return { id: directed.id, root, transitions };
}

function walk(node: DirectedGraphNode, rootId: string, transitions: GraphTransition[]): GraphState {
  const stateNode = node.stateNode;
  for (const edge of node.edges) {
    transitions.push(transitionOf(stateNode.id, edge.target.id, edge.transition, triggerOf(edge)));
  }
  // toDirectedGraph leaves eventless (`always`) transitions out; they are part of the machine all the same.
  for (const always of stateNode.always ?? []) {
    for (const target of always.target ?? [stateNode]) {
      transitions.push(transitionOf(stateNode.id, target.id, always, { kind: "always" }));
    }
  }
  const path = stateNode.path.join(".");
  return {
    id: stateNode.id,
    path,
    key: path === "" ? rootId : stateNode.key,
    kind: stateNode.type as StateKind,
    initial: stateNode.type === "compound" ? initialOf(stateNode) : undefined,
    children: node.children.map((child) => walk(child, rootId, transitions)),
  };
}

function initialOf(stateNode: StateNodeLike): string | undefined {
  const initial = stateNode.initial as { target?: readonly StateNodeLike[] } | undefined;
  return initial?.target?.[0]?.id;
}

function triggerOf(edge: DirectedGraphNode["edges"][number]): Trigger {
  const event = edge.transition.eventType;
  // Delayed transitions are events named `xstate.after.<delay>.<state id>`.
  const suffix = `.${edge.source.id}`;
  if (event.startsWith("xstate.after.") && event.endsWith(suffix)) {
    const delay = event.slice("xstate.after.".length, -suffix.length);
    return { kind: "after", delay: /^\d+$/.test(delay) ? `${delay}ms` : delay };
  }
  return { kind: "event", event };
}

function transitionOf(
  source: string,
  target: string,
  transition: TransitionLike,
  trigger: Trigger,
): GraphTransition {
  return {
    source,
    target,
    trigger,
    guard: guardName(transition.guard),
    targetless: transition.target === undefined || transition.target.length === 0,
    reenter: transition.reenter === true,
  };
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === "string") return guard;
  if (typeof guard === "function") return "guard";
  if (typeof guard === "object" && "type" in guard && typeof guard.type === "string") return guard.type;
  return "guard";
}

/** The label of a transition's arrow: `EVENT`, `after delay` or `always`, then `[guard]`. */
export function transitionLabel(transition: GraphTransition): string {
  const { trigger } = transition;
  const head =
    trigger.kind === "event" ? trigger.event : trigger.kind === "after" ? `after ${trigger.delay}` : "always";
  return transition.guard === undefined ? head : `${head} [${transition.guard}]`;
}

/** Every state of the graph, parents before children, in definition order. */
export function statesOf(graph: MachineGraph): GraphState[] {
  const all: GraphState[] = [];
  const visit = (state: GraphState) => {
    all.push(state);
    for (const child of state.children) visit(child);
  };
  visit(graph.root);
  return all;
}
