import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { LatencyCurve } from "./scenario.js";

/**
 * The latency-versus-offered-rate plot of `npm run bench`: an SVG drawn here (no chart library) and rasterised
 * to PNG by Debian's Chromium through playwright-core, as the browser suite launches it. Latency is on a log
 * scale, since p50 and p999 differ by orders of magnitude; the 100 ms line marks where the knee is read.
 */

export const CHROMIUM = "/usr/bin/chromium";
const LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

export const PLOT = { width: 960, height: 600, left: 80, right: 190, top: 50, bottom: 60 } as const;
export const KNEE_MS = 100;
export const PERCENTILES = ["p50", "p99", "p999"] as const;
export type Percentile = (typeof PERCENTILES)[number];
const DASH: Record<Percentile, string> = { p50: "", p99: "8 4", p999: "2 4" };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

const msOf = (point: LatencyCurve["points"][number], percentile: Percentile): number =>
  percentile === "p50" ? point.p50Ms : percentile === "p99" ? point.p99Ms : point.p999Ms;

/** Where values land in the plot area: x linear in offered msg/s from 0, y log10 in milliseconds. */
export interface PlotScales {
  readonly xMax: number;
  readonly yMinMs: number;
  readonly yMaxMs: number;
  x(offeredPerSecond: number): number;
  y(latencyMs: number): number;
}

export function plotScales(curves: readonly LatencyCurve[]): PlotScales {
  const points = curves.flatMap((c) => c.points);
  const latencies = points
    .flatMap((p) => PERCENTILES.map((q) => msOf(p, q)))
    .filter((ms) => Number.isFinite(ms) && ms > 0);
  const xMax = niceCeiling(Math.max(1, ...points.map((p) => p.offeredPerSecond)));
  // Whole decades that hold every point and the 100 ms line.
  const yMinMs = 10 ** Math.floor(Math.log10(Math.min(KNEE_MS, ...latencies)));
  const yMaxMs = 10 ** Math.ceil(Math.log10(Math.max(KNEE_MS * 10, ...latencies)));
  const plotWidth = PLOT.width - PLOT.left - PLOT.right;
  const plotHeight = PLOT.height - PLOT.top - PLOT.bottom;
  const span = Math.log10(yMaxMs) - Math.log10(yMinMs);
  return {
    xMax,
    yMinMs,
    yMaxMs,
    x: (offered) => PLOT.left + (offered / xMax) * plotWidth,
    // Latencies at or below zero (a clock too coarse to see them) sit on the floor of the plot.
    y: (ms) =>
      PLOT.top + plotHeight - ((Math.log10(Math.max(ms, yMinMs)) - Math.log10(yMinMs)) / span) * plotHeight,
  };
}

/** 1, 2 or 5 times a power of ten, at or above `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const fmt = (value: number) => (Math.round(value * 10) / 10).toString();
const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[^\x20-\x7e]/g, "");

/** The SVG document: one coloured line per curve label and a dash style per percentile. */
export function renderLatencySvg(curves: readonly LatencyCurve[], title = "Send -> receive latency"): string {
  const s = plotScales(curves);
  const bottom = PLOT.height - PLOT.bottom;
  const right = PLOT.width - PLOT.right;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PLOT.width}" height="${PLOT.height}" viewBox="0 0 ${PLOT.width} ${PLOT.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${PLOT.width}" height="${PLOT.height}" fill="#ffffff"/>`,
    `<text x="${PLOT.width / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
  ];
  // Axes, decade grid lines on y, five ticks on x.
  for (let ms = s.yMinMs; ms <= s.yMaxMs * 1.0001; ms *= 10) {
    const y = fmt(s.y(ms));
    parts.push(
      `<line x1="${PLOT.left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${PLOT.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${ms >= 1 ? fmt(ms) : ms.toPrecision(1)} ms</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const offered = (s.xMax * i) / 5;
    const x = fmt(s.x(offered));
    parts.push(
      `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#000000"/>`,
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${Math.round(offered).toLocaleString("en-US")}</text>`,
    );
  }
  parts.push(
    `<line x1="${PLOT.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#000000"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${bottom}" stroke="#000000"/>`,
    `<text x="${(PLOT.left + right) / 2}" y="${PLOT.height - 16}" text-anchor="middle">offered load (messages/s, open loop)</text>`,
    `<text x="18" y="${(PLOT.top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(PLOT.top + bottom) / 2})">latency (ms, log scale)</text>`,
  );
  const knee = fmt(s.y(KNEE_MS));
  parts.push(
    `<line data-knee-ms="${KNEE_MS}" x1="${PLOT.left}" y1="${knee}" x2="${right}" y2="${knee}" stroke="#000000" stroke-width="1.5" stroke-dasharray="6 3"/>`,
    `<text x="${right - 4}" y="${Number(knee) - 5}" text-anchor="end">${KNEE_MS} ms</text>`,
  );
  // Series and legend.
  let legendY = PLOT.top + 10;
  curves.forEach((curve, index) => {
    const color = COLORS[index % COLORS.length] ?? "#000000";
    const label = escapeXml(curve.label);
    const points = [...curve.points].sort((a, b) => a.offeredPerSecond - b.offeredPerSecond);
    for (const percentile of PERCENTILES) {
      const xy = points.map((p) => [fmt(s.x(p.offeredPerSecond)), fmt(s.y(msOf(p, percentile)))] as const);
      const dash = DASH[percentile] === "" ? "" : ` stroke-dasharray="${DASH[percentile]}"`;
      if (xy.length > 1) {
        parts.push(
          `<polyline data-curve="${label}" data-percentile="${percentile}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${xy.map(([x, y]) => `${x},${y}`).join(" ")}"/>`,
        );
      }
      points.forEach((p, i) => {
        const [x, y] = xy[i] ?? ["0", "0"];
        parts.push(
          `<circle data-curve="${label}" data-percentile="${percentile}" data-offered="${p.offeredPerSecond}" data-ms="${msOf(p, percentile)}" cx="${x}" cy="${y}" r="3" fill="${color}"/>`,
        );
      });
      parts.push(
        `<line x1="${right + 16}" y1="${legendY}" x2="${right + 46}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/>`,
        `<text x="${right + 52}" y="${legendY}" dominant-baseline="middle">${label} ${percentile}</text>`,
      );
      legendY += 18;
    }
    legendY += 8;
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

export interface WrittenPlot {
  readonly svgPath: string;
  /** Absent when Chromium is missing or could not render (then `note` says why). */
  readonly pngPath?: string;
  readonly note?: string;
}

/** Writes `<plot>.svg` next to `pngPath` and, with Chromium present, the PNG itself. */
export async function writeLatencyPlot(
  curves: readonly LatencyCurve[],
  pngPath: string,
): Promise<WrittenPlot> {
  const svg = renderLatencySvg(curves);
  const svgPath = `${pngPath.replace(/\.png$/i, "")}.svg`;
  mkdirSync(dirname(pngPath), { recursive: true });
  writeFileSync(svgPath, svg);
  if (!existsSync(CHROMIUM)) {
    return { svgPath, note: `${CHROMIUM} is missing (apt-get install chromium): wrote the SVG only` };
  }
  try {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: PLOT.width, height: PLOT.height } });
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      await page.screenshot({
        path: pngPath,
        clip: { x: 0, y: 0, width: PLOT.width, height: PLOT.height },
      });
    } finally {
      await browser.close();
    }
    return { svgPath, pngPath };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { svgPath, note: `Chromium could not render the PNG (${reason}): wrote the SVG only` };
  }
}
