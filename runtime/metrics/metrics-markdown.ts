import { DEFAULT_LABELS, METRICS, type MetricSpec } from "./catalog.js";

/** Where the generated table sits in the README. */
export const METRICS_TABLE_START = "<!-- metrics-table:start (generated from runtime/metrics/catalog.ts) -->";
export const METRICS_TABLE_END = "<!-- metrics-table:end -->";

function labelsText(spec: MetricSpec): string {
  const labels = Object.entries(spec.labels);
  if (labels.length === 0) return "";
  return labels
    .map(([name, values]) =>
      values === "dynamic"
        ? `\`${name}\``
        : `\`${name}\`: ${values.map((value) => `\`${value}\``).join(", ")}`,
    )
    .join("; ");
}

function meaningText(spec: MetricSpec): string {
  const buckets = spec.buckets === undefined ? "" : ` Buckets: ${spec.buckets.join(", ")}.`;
  const scraped = spec.source === "scrape" ? " Read on scrape." : "";
  return `${spec.help}${buckets}${scraped}`;
}

/** The README's metrics table, between its markers: one row per catalog entry, in catalog order. */
export function metricsMarkdown(): string {
  const rows = (Object.values(METRICS) as MetricSpec[]).map(
    (spec) =>
      `| \`${spec.name}\` | ${spec.type} | ${labelsText(spec)} | ${meaningText(spec).replace(/\|/g, "\\|")} |`,
  );
  return [
    METRICS_TABLE_START,
    `Every sample also carries ${DEFAULT_LABELS.map((label) => `\`${label}\``).join(" and ")}.`,
    "",
    "| Metric | Type | Labels | Meaning |",
    "|---|---|---|---|",
    ...rows,
    METRICS_TABLE_END,
  ].join("\n");
}
