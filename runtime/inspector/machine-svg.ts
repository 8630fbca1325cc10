import dagre from "@dagrejs/dagre";
import { type GraphState, type MachineGraph, statesOf, transitionLabel } from "./machine-graph.js";

/**
 * A machine graph drawn as a standalone SVG, laid out by dagre (deterministic: the same graph gives the same
 * bytes) — no browser involved. Atomic states are rounded boxes (final ones double-bordered), compound and
 * parallel states are clusters around their children (parallel regions dashed), a filled dot marks each
 * initial state, and arrows carry their events. Transitions between the same two states share one arrow
 * with one line per transition.
 *
 * Every state's group carries `data-state="<dotted path>"` and an empty `text.count`, which the inspector
 * page fills with the number of live actors in that state.
 */
const FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
const FONT_PX = 12;
/** Advance of one character of a monospace font at FONT_PX (measured width ~0.6 em), rounded up. */
const CHAR_PX = 7.4;
const LINE_PX = 15;
const STATE_HEIGHT = 34;
const INITIAL_SIZE = 12;
const CLUSTER_LABEL_PX = 22;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Point {
  x: number;
  y: number;
}

interface Arrow {
  source: string;
  target: string;
  lines: string[];
  /** Dashed when every transition on it is targetless (nothing is exited or entered). */
  targetless: boolean;
}

const textWidth = (text: string) => Math.ceil(text.length * CHAR_PX);
const isCluster = (state: GraphState) => state.children.length > 0;
const initialNode = (state: GraphState) => `initial:${state.id}`;

export function toSvg(graph: MachineGraph, title: string): string {
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

  const clusters: string[] = [];
  const nodes: string[] = [];
  const edges: string[] = [];
  const labels: string[] = [];
  let bounds: Box = { x: 0, y: 0, width: 0, height: 0 };
  const grow = (box: Box) => {
    const right = Math.max(bounds.x + bounds.width, box.x + box.width);
    const bottom = Math.max(bounds.y + bounds.height, box.y + box.height);
    bounds = {
      x: Math.min(bounds.x, box.x),
      y: Math.min(bounds.y, box.y),
      width: right - Math.min(bounds.x, box.x),
      height: bottom - Math.min(bounds.y, box.y),
    };
  };

  const boxes = new Map<string, Box>();
  const pending: Array<{ box: Box; lines: string[]; moved: boolean }> = [];
  for (const state of states) {
    if (state === graph.root) continue;
    if (isCluster(state)) {
      const box = clusterBox(state);
      boxes.set(state.id, box);
      grow(box);
      const parent = parentOf.get(state.id);
      const region = parent?.kind === "parallel";
      const caption = state.kind === "parallel" ? `${state.key} (parallel)` : state.key;
      clusters.push(
        `<g class="cluster${region ? " region" : ""}" data-state="${esc(state.path)}">` +
          `<rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="10"/>` +
          `<text class="name" x="${n(box.x + 10)}" y="${n(box.y + 16)}">${esc(caption)}</text>` +
          `<text class="count" x="${n(box.x + box.width - 8)}" y="${n(box.y + 16)}" text-anchor="end"></text>` +
          "</g>",
      );
    } else {
      const box = boxOf(state.id);
      boxes.set(state.id, box);
      grow(box);
      const final = state.kind === "final";
      nodes.push(
        `<g class="state${final ? " final" : ""}" data-state="${esc(state.path)}">` +
          `<rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="9"/>` +
          (final
            ? `<rect class="inner" x="${n(box.x + 3)}" y="${n(box.y + 3)}" width="${n(box.width - 6)}" height="${n(box.height - 6)}" rx="7"/>`
            : "") +
          `<text class="name" x="${n(box.x + box.width / 2)}" y="${n(box.y + box.height / 2 + 4)}" text-anchor="middle">${esc(state.key)}</text>` +
          `<text class="count" x="${n(box.x + box.width - 4)}" y="${n(box.y - 3)}" text-anchor="end"></text>` +
          "</g>",
      );
    }
  }
  for (const state of states) {
    if (state.initial === undefined) continue;
    const box = boxOf(initialNode(state));
    grow(box);
    nodes.push(
      `<circle class="initial" cx="${n(box.x + box.width / 2)}" cy="${n(box.y + box.height / 2)}" r="${INITIAL_SIZE / 2}"/>`,
    );
  }

  for (const edge of layout.edges()) {
    const label = layout.edge(edge) as { points: Point[]; x: number; y: number; arrow: Arrow };
    const { arrow } = label;
    let points = label.points;
    const sourceState = byId.get(arrow.source);
    const targetState = byId.get(arrow.target);
    const sourceBox =
      sourceState !== undefined && isCluster(sourceState) ? boxes.get(sourceState.id) : undefined;
    const targetBox =
      targetState !== undefined && isCluster(targetState) ? boxes.get(targetState.id) : undefined;
    const lines = arrow.lines.filter((line) => line !== "");
    const width = Math.max(0, ...lines.map(textWidth)) + 6;
    const height = lines.length * LINE_PX + 2;
    let at: Point = { x: label.x, y: label.y };
    if (edge.v === edge.w) {
      // A self-transition: a loop on the state's right, its label beside it (where dagre left room).
      const box = boxes.get(edge.v) as Box;
      const right = box.x + box.width;
      const cy = box.y + box.height / 2;
      const reach = Math.max(18, Math.min(36, label.x - width / 2 - right - 4));
      at = { x: right + reach + 4 + width / 2, y: cy };
      grow({ x: right, y: cy - 14, width: reach, height: 28 });
      edges.push(
        `<path class="edge${arrow.targetless ? " targetless" : ""}" d="M${n(right)},${n(cy - 7)} C${n(right + reach)},${n(cy - 22)} ${n(right + reach)},${n(cy + 22)} ${n(right + 1)},${n(cy + 8)}" marker-end="url(#arrow)"/>`,
      );
    } else {
      if (sourceBox !== undefined) points = leaveBox(points, sourceBox);
      if (targetBox !== undefined) points = enterBox(points, targetBox);
      // The label dagre placed belongs to the arrow's laid-out route (to a leaf inside the cluster).
      if (sourceBox !== undefined || targetBox !== undefined) {
        const leaf = sourceBox === undefined ? boxes.get(arrow.source) : boxes.get(arrow.target);
        at = besideHalfway(
          points,
          width,
          height,
          targetBox === undefined || sourceBox === undefined ? leaf : undefined,
        );
      }
      for (const point of points) grow({ x: point.x, y: point.y, width: 0, height: 0 });
      edges.push(
        `<path class="edge${arrow.targetless ? " targetless" : ""}" d="${pathOf(points)}" marker-end="url(#arrow)"/>`,
      );
    }
    if (lines.length === 0) continue;
    const box = { x: at.x - width / 2, y: at.y - height / 2, width, height };
    pending.push({ box, lines, moved: at.x !== label.x || at.y !== label.y });
  }
  // dagre's label places do not overlap; a label moved off its place may land on another: push it down
  // until it is clear.
  const placed = pending.filter((label) => !label.moved).map((label) => label.box);
  for (const label of pending) {
    if (!label.moved) continue;
    const box = label.box;
    for (let tries = 0; tries < 8; tries++) {
      const hit = placed.find((other) => overlaps(other, box));
      if (hit === undefined) break;
      box.y = hit.y + hit.height + 2;
    }
    placed.push(box);
  }
  for (const { box, lines } of pending) {
    grow(box);
    const x = box.x + box.width / 2;
    labels.push(
      `<g class="label"><rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="3"/>` +
        lines
          .map(
            (line, index) =>
              `<text x="${n(x)}" y="${n(box.y + 12 + index * LINE_PX)}" text-anchor="middle">${esc(line)}</text>`,
          )
          .join("") +
        "</g>",
    );
  }

  const pad = 12;
  const view = {
    x: bounds.x - pad,
    y: bounds.y - pad - 24,
    width: bounds.width + 2 * pad,
    height: bounds.height + 2 * pad + 24,
  };
  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${n(view.x)} ${n(view.y)} ${n(view.width)} ${n(view.height)}" width="${n(view.width)}" height="${n(view.height)}" font-family="${FONT}" font-size="${FONT_PX}" data-machine="${esc(graph.id)}">`,
    `<title>${esc(title)}</title>`,
    "<style>",
    ".state rect{fill:#eef4fb;stroke:#35618f;stroke-width:1.4}",
    ".state.final rect.inner{fill:none}",
    ".cluster rect{fill:#f8fafc;stroke:#7b8ea3;stroke-width:1.2}",
    ".cluster.region rect{fill:#ffffff;stroke-dasharray:5 4}",
    ".cluster .name{font-weight:bold;fill:#33475b}",
    ".name{fill:#0f2236}",
    ".count{fill:#b42318;font-weight:bold}",
    ".initial{fill:#0f2236}",
    ".edge{fill:none;stroke:#55606e;stroke-width:1.3}",
    ".edge.targetless{stroke-dasharray:4 3}",
    ".label rect{fill:#ffffff;fill-opacity:0.9;stroke:none}",
    ".label text{fill:#444f5c;font-size:11px}",
    ".heading{font-weight:bold;font-size:14px;fill:#0f2236}",
    "</style>",
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#55606e"/></marker></defs>',
    `<text class="heading" x="${n(view.x + pad)}" y="${n(view.y + pad + 10)}">${esc(title)}</text>`,
    ...clusters,
    ...edges,
    ...nodes,
    ...labels,
    "</svg>",
  ].join("\n")}\n`;
}

/** Fixed precision keeps the output byte-stable; `-0` is written as `0`. */
function n(value: number): string {
  const text = (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, "");
  return text === "-0" ? "0" : text;
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A smooth path through dagre's points: straight ends, quadratic curves through the bends. */
function pathOf(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return "";
  const parts = [`M${n(first.x)},${n(first.y)}`];
  for (let i = 0; i < rest.length - 1; i++) {
    const bend = rest[i] as Point;
    const next = rest[i + 1] as Point;
    parts.push(`Q${n(bend.x)},${n(bend.y)} ${n((bend.x + next.x) / 2)},${n((bend.y + next.y) / 2)}`);
  }
  const last = rest[rest.length - 1];
  if (last !== undefined) parts.push(`L${n(last.x)},${n(last.y)}`);
  return parts.join(" ");
}

/**
 * Where a label goes on an arrow cut at a cluster's border: half-way along it, or, when the arrow is too short
 * to hold the label, past the state at its other end (below it for a sideways arrow, right of it otherwise).
 */
function besideHalfway(
  points: readonly Point[],
  width: number,
  height: number,
  leaf: Box | undefined,
): Point {
  const mid = halfway(points);
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return mid;
  const dx = last.x - first.x;
  const dy = last.y - first.y;
  const sideways = Math.abs(dx) >= Math.abs(dy);
  if (Math.hypot(dx, dy) >= (sideways ? width : height) + 24 || leaf === undefined) return mid;
  return sideways
    ? { x: mid.x, y: leaf.y + leaf.height + 4 + height / 2 }
    : { x: leaf.x + leaf.width + 6 + width / 2, y: mid.y };
}

/** The point half-way along a polyline. */
function halfway(points: readonly Point[]): Point {
  const lengths = points.slice(1).map((point, i) => {
    const previous = points[i] as Point;
    return Math.hypot(point.x - previous.x, point.y - previous.y);
  });
  let left = lengths.reduce((sum, length) => sum + length, 0) / 2;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i] as number;
    const from = points[i] as Point;
    const to = points[i + 1] as Point;
    if (left <= length && length > 0) {
      return { x: from.x + ((to.x - from.x) * left) / length, y: from.y + ((to.y - from.y) * left) / length };
    }
    left -= length;
  }
  return points[0] ?? { x: 0, y: 0 };
}

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const inside = (point: Point, box: Box) =>
  point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height;

/** The points of an arrow that starts at a cluster: from where it crosses the cluster's border. */
function leaveBox(points: readonly Point[], box: Box): Point[] {
  let last = -1;
  points.forEach((point, index) => {
    if (inside(point, box)) last = index;
  });
  const from = points[last];
  const to = points[last + 1];
  if (last < 0 || from === undefined || to === undefined) return [...points];
  return [crossing(from, to, box), ...points.slice(last + 1)];
}

/** The points of an arrow that ends at a cluster: up to where it crosses the cluster's border. */
function enterBox(points: readonly Point[], box: Box): Point[] {
  const first = points.findIndex((point, index) => index > 0 && inside(point, box));
  const from = points[first - 1];
  const to = points[first];
  if (first < 1 || from === undefined || to === undefined) return [...points];
  return [...points.slice(0, first), crossing(from, to, box)];
}

/** Where the segment from `a` (inside) to `b` (outside), or back, crosses the box's border. */
function crossing(a: Point, b: Point, box: Box): Point {
  let lo = 0;
  let hi = 1;
  const aInside = inside(a, box);
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    const point = { x: a.x + (b.x - a.x) * mid, y: a.y + (b.y - a.y) * mid };
    if (inside(point, box) === aInside) lo = mid;
    else hi = mid;
  }
  return { x: a.x + (b.x - a.x) * lo, y: a.y + (b.y - a.y) * lo };
}
