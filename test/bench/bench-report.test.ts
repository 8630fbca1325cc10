import { describe, expect, it } from "vitest";
import { KNEE_MS, PLOT, plotScales, renderLatencySvg } from "./plot.js";
import {
  buildReport,
  formatTable,
  type MachineInfo,
  percentile,
  type ScenarioOutcome,
  tableRows,
  targetResults,
  targetSummary,
} from "./report.js";
import { figure, type LatencyCurve } from "./scenario.js";

const machine: MachineInfo = {
  cpuModel: "test cpu",
  cpuCount: 2,
  memoryBytes: 8e9,
  freeMemoryBytes: 4e9,
  os: "Linux 6 x64",
  node: "v20.19.0",
  versions: { ws: "8.23.0" },
  gitCommit: "0123456789abcdef0123456789abcdef01234567",
};

const throughput = figure({
  name: "persist.many_chats.throughput",
  value: 450,
  unit: "msg/s",
  baseline: 1000,
  baselineLabel: "raw conditional PutItem",
  target: ">= 0.45 x baseline",
  met: false,
});
const latency = figure({
  name: "persist.hot_chat.ack_p99",
  value: 12.5,
  unit: "ms",
  baseline: 5,
  baselineLabel: "raw conditional PutItem",
  target: null,
});
const hot = figure({
  name: "persist.hot_chat.throughput",
  value: 250,
  unit: "msg/s",
  baseline: null,
  baselineLabel: "",
  target: ">= 200 msg/s",
  met: true,
});

const curves: LatencyCurve[] = [
  {
    label: "embedded",
    points: [
      { offeredPerSecond: 1000, achievedPerSecond: 1000, p50Ms: 1, p99Ms: 10, p999Ms: 20 },
      { offeredPerSecond: 4000, achievedPerSecond: 3900, p50Ms: 5, p99Ms: 100, p999Ms: 400 },
    ],
  },
  {
    label: "cluster",
    points: [{ offeredPerSecond: 2000, achievedPerSecond: 2000, p50Ms: 3, p99Ms: 30, p999Ms: 60 }],
  },
];

describe("bench figures", () => {
  it("a figure's ratio is value / baseline to two decimals, and null without a baseline", () => {
    expect(throughput.ratio).toBe(0.45);
    expect(latency.ratio).toBe(2.5);
    expect(figure({ ...hot, baseline: 0 }).ratio).toBeNull();
    expect(hot.ratio).toBeNull();
    expect(latency.met).toBeNull();
  });

  it("percentile is the nearest rank of ascending values", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(500);
    expect(percentile(values, 0.99)).toBe(990);
    expect(percentile(values, 0.999)).toBe(999);
    expect(percentile(values, 1)).toBe(1000);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe("bench table", () => {
  it("shows value with unit, baseline with its label, ratio, target and met/MISS", () => {
    const rows = tableRows([throughput, latency, hot]);
    expect(rows[0]).toEqual(["figure", "value", "baseline", "ratio", "target", "met"]);
    expect(rows[1]).toEqual([
      "persist.many_chats.throughput",
      "450 msg/s",
      "1,000 (raw conditional PutItem)",
      "0.45x",
      ">= 0.45 x baseline",
      "MISS",
    ]);
    expect(rows[2]).toEqual([
      "persist.hot_chat.ack_p99",
      "12.5 ms",
      "5 (raw conditional PutItem)",
      "2.5x",
      "",
      "",
    ]);
    expect(rows[3]?.at(-1)).toBe("met");
  });

  it("pads every column to one width", () => {
    const lines = formatTable([throughput, latency]).split("\n");
    expect(lines).toHaveLength(3);
    const valueColumn = (line: string) => line.indexOf(line.includes("msg/s") ? "450" : "12.5");
    expect(valueColumn(lines[1] as string)).toBe(valueColumn(lines[2] as string));
    expect(lines[0]?.indexOf("value")).toBe(valueColumn(lines[1] as string));
  });
});

describe("bench JSON report", () => {
  const outcomes: ScenarioOutcome[] = [
    {
      name: "persist",
      title: "Persist",
      durationMs: 1234.4,
      figures: [throughput, latency, hot],
      curves: [],
      details: { chats: 1000 },
    },
    {
      name: "end-to-end",
      title: "End to end",
      durationMs: 10,
      figures: [],
      curves,
      details: {},
      error: "boom",
    },
    {
      name: "rebalance",
      title: "Rebalance",
      durationMs: 0,
      figures: [],
      curves: [],
      details: {},
      skipped: "no kafka",
    },
  ];
  const report = buildReport({
    quick: true,
    startedAt: new Date("2026-01-01T00:00:00Z"),
    finishedAt: new Date("2026-01-01T00:01:00Z"),
    machine,
    engines: { DYNAMODB_ENDPOINT: "http://127.0.0.1:1" },
    outcomes,
  });

  it("lists in results exactly the figures that have a target, in the issue's shape", () => {
    expect(report.results).toEqual([
      {
        name: "persist.many_chats.throughput",
        value: 450,
        unit: "msg/s",
        baseline: 1000,
        ratio: 0.45,
        target: ">= 0.45 x baseline",
        met: false,
      },
      {
        name: "persist.hot_chat.throughput",
        value: 250,
        unit: "msg/s",
        baseline: null,
        ratio: null,
        target: ">= 200 msg/s",
        met: true,
      },
    ]);
    expect(targetResults([latency])).toEqual([]);
  });

  it("keeps every figure and curve with its scenario, the details, machine and timestamps", () => {
    expect(report.figures.map((f) => [f.scenario, f.name])).toEqual([
      ["persist", "persist.many_chats.throughput"],
      ["persist", "persist.hot_chat.ack_p99"],
      ["persist", "persist.hot_chat.throughput"],
    ]);
    expect(report.curves.map((c) => [c.scenario, c.label])).toEqual([
      ["end-to-end", "embedded"],
      ["end-to-end", "cluster"],
    ]);
    expect(report.details.persist).toEqual({ chats: 1000 });
    expect(report.machine).toEqual(machine);
    expect(report).toMatchObject({
      mode: "quick",
      startedAt: "2026-01-01T00:00:00.000Z",
      finishedAt: "2026-01-01T00:01:00.000Z",
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("says which scenarios failed or were skipped, and why", () => {
    expect(report.scenarios).toEqual([
      { name: "persist", title: "Persist", durationMs: 1234, status: "ok" },
      { name: "end-to-end", title: "End to end", durationMs: 10, status: "failed", reason: "boom" },
      { name: "rebalance", title: "Rebalance", durationMs: 0, status: "skipped", reason: "no kafka" },
    ]);
  });

  it("summarises met and missed targets in one line", () => {
    expect(targetSummary(report.results)).toBe("targets: 1 met, 1 missed (persist.many_chats.throughput)");
    expect(targetSummary([])).toBe("targets: 0 met");
  });
});

describe("latency plot", () => {
  const svg = renderLatencySvg(curves);
  const circles = [...svg.matchAll(/<circle ([^>]*)\/>/g)].map((match) => {
    const attributes = Object.fromEntries(
      [...(match[1] as string).matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]),
    );
    return attributes as Record<string, string>;
  });

  it("draws one marker per point and percentile, at the scales' coordinates", () => {
    expect(circles).toHaveLength(3 * 3);
    const scales = plotScales(curves);
    const marker = circles.find(
      (c) => c["data-curve"] === "embedded" && c["data-percentile"] === "p99" && c["data-offered"] === "4000",
    );
    expect(Number(marker?.cx)).toBeCloseTo(scales.x(4000), 1);
    expect(Number(marker?.cy)).toBeCloseTo(scales.y(100), 1);
  });

  it("uses a linear x from 0 and a log y in whole decades", () => {
    const scales = plotScales(curves);
    expect(scales.xMax).toBe(5000);
    expect(scales.x(0)).toBe(PLOT.left);
    expect(scales.x(5000)).toBe(PLOT.width - PLOT.right);
    expect([scales.yMinMs, scales.yMaxMs]).toEqual([1, 1000]);
    // Each decade takes the same height: 1 -> 10 ms as much as 10 -> 100 ms.
    expect(scales.y(1) - scales.y(10)).toBeCloseTo(scales.y(10) - scales.y(100), 6);
    expect(scales.y(1)).toBe(PLOT.height - PLOT.bottom);
    expect(scales.y(1000)).toBe(PLOT.top);
  });

  it("marks the 100 ms line across the plot", () => {
    const knee = svg.match(
      /<line data-knee-ms="(\d+)" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/,
    );
    expect(knee?.[1]).toBe(String(KNEE_MS));
    expect(Number(knee?.[3])).toBeCloseTo(plotScales(curves).y(KNEE_MS), 1);
    expect(knee?.[3]).toBe(knee?.[5]);
    expect(svg).toContain(">100 ms</text>");
  });

  it("draws a line per curve and percentile where a curve has several points", () => {
    const lines = [...svg.matchAll(/<polyline data-curve="(\w+)" data-percentile="(\w+)"/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    expect(lines).toEqual(["embedded p50", "embedded p99", "embedded p999"]);
    expect(svg).toContain("cluster p999</text>");
  });
});
