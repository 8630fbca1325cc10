import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_LABELS, METRICS, type MetricSpec } from "./catalog.js";
import { METRICS_TABLE_END, METRICS_TABLE_START, metricsMarkdown } from "./metrics-markdown.js";

const specs = Object.values(METRICS) as MetricSpec[];
const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** A label that could hold one chat, user, message or connection (spec §3: never labels). */
const ID_LABEL = /(^|_)(chat|user|message|msg|connection|conn|client_message|device|session)(_?id)?$/;

describe("the metrics catalog", () => {
  it("has no label that could hold a chat, user, message or connection id", () => {
    const labels = specs.flatMap((spec) => [...DEFAULT_LABELS, ...Object.keys(spec.labels)]);
    expect(labels.filter((label) => ID_LABEL.test(label) || label.endsWith("_id"))).toEqual([]);
    // The scan itself recognises the forbidden names.
    for (const forbidden of ["chat_id", "user_id", "message_id", "connection_id", "user", "conn_id"])
      expect(ID_LABEL.test(forbidden) || forbidden.endsWith("_id")).toBe(true);
  });

  it("names every metric <plane>_<subsystem>_<metric>, counters and only counters ending in _total", () => {
    for (const spec of specs) {
      expect(spec.name).toMatch(/^(gateway|durability|placement|fanout|security)_[a-z0-9]+(_[a-z0-9]+)+$/);
      expect(spec.name.endsWith("_total"), spec.name).toBe(spec.type === "counter");
    }
    expect(new Set(specs.map((spec) => spec.name)).size).toBe(specs.length);
  });

  it("gives every histogram ascending buckets and no other metric any", () => {
    for (const spec of specs) {
      if (spec.type !== "histogram") {
        expect(spec.buckets, spec.name).toBeUndefined();
        continue;
      }
      const buckets = spec.buckets ?? [];
      expect(buckets.length, spec.name).toBeGreaterThan(0);
      expect(
        [...buckets].sort((a, b) => a - b),
        spec.name,
      ).toEqual(buckets);
    }
  });

  it("is documented in the README exactly as the catalog declares it", () => {
    const start = readme.indexOf(METRICS_TABLE_START);
    const end = readme.indexOf(METRICS_TABLE_END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(readme.slice(start, end + METRICS_TABLE_END.length)).toBe(metricsMarkdown());
    for (const spec of specs) expect(metricsMarkdown()).toContain(`| \`${spec.name}\` | ${spec.type} |`);
  });
});
