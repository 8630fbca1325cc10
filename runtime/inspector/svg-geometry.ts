/**
 * The plane geometry of the diagrams: boxes and points, where an arrow crosses a cluster's border, where a
 * label goes, and numbers written with the fixed precision that keeps the SVG byte-stable.
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Fixed precision keeps the output byte-stable; `-0` is written as `0`. */
export function n(value: number): string {
  const text = (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, "");
  return text === "-0" ? "0" : text;
}

export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A smooth path through dagre's points: straight ends, quadratic curves through the bends. */
export function pathOf(points: readonly Point[]): string {
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
export function besideHalfway(
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

export const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const inside = (point: Point, box: Box) =>
  point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height;

/** The points of an arrow that starts at a cluster: from where it crosses the cluster's border. */
export function leaveBox(points: readonly Point[], box: Box): Point[] {
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
export function enterBox(points: readonly Point[], box: Box): Point[] {
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
