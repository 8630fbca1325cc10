import type { MachineGraph } from "./machine-graph.js";
import { INITIAL_SIZE, initialNode, isCluster, LINE_PX, layOut, textWidth } from "./machine-layout.js";
import {
  type Box,
  besideHalfway,
  enterBox,
  esc,
  leaveBox,
  n,
  overlaps,
  type Point,
  pathOf,
} from "./svg-geometry.js";

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

export function toSvg(graph: MachineGraph, title: string): string {
  const { states, byId, parentOf, edges: laidOut, boxOf, clusterBox } = layOut(graph);

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

  for (const edge of laidOut) {
    const { arrow } = edge;
    let points = edge.points;
    const sourceState = byId.get(arrow.source);
    const targetState = byId.get(arrow.target);
    const sourceBox =
      sourceState !== undefined && isCluster(sourceState) ? boxes.get(sourceState.id) : undefined;
    const targetBox =
      targetState !== undefined && isCluster(targetState) ? boxes.get(targetState.id) : undefined;
    const lines = arrow.lines.filter((line) => line !== "");
    const width = Math.max(0, ...lines.map(textWidth)) + 6;
    const height = lines.length * LINE_PX + 2;
    let at: Point = { x: edge.x, y: edge.y };
    if (edge.v === edge.w) {
      // A self-transition: a loop on the state's right, its label beside it (where dagre left room).
      const box = boxes.get(edge.v) as Box;
      const right = box.x + box.width;
      const cy = box.y + box.height / 2;
      const reach = Math.max(18, Math.min(36, edge.x - width / 2 - right - 4));
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
    pending.push({ box, lines, moved: at.x !== edge.x || at.y !== edge.y });
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
