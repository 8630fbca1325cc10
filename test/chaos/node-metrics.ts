import type { ClusterNode, LocalCluster } from "../../deploy/local/cluster.js";

/** Metric totals of the running nodes, per process (`nodeId/pid`, so a restarted node reads as a new one). */
export type MetricReadings = ReadonlyMap<
  string,
  { readonly node: ClusterNode; readonly totals: Map<string, number> }
>;

/**
 * Reads counters and gauges from every running node's `/metrics` (its internal listener), each summed over its samples (every sample
 * carries the registry's default labels, some more). A metric is named `name` (all samples) or
 * `name{label="value"}` (the samples with that label). A node that does not answer is left out.
 */
export async function readMetrics(cluster: LocalCluster, names: readonly string[]): Promise<MetricReadings> {
  const host = cluster.env.HOST ?? "127.0.0.1";
  const readings = new Map<string, { node: ClusterNode; totals: Map<string, number> }>();
  await Promise.all(
    cluster.nodes
      .filter((node) => node.exit === undefined)
      .map(async (node) => {
        const text = await fetch(`http://${host}:${node.internalPort}/metrics`, {
          signal: AbortSignal.timeout(2_000),
        })
          .then((response) => (response.ok ? response.text() : undefined))
          .catch(() => undefined);
        if (text === undefined) return;
        const totals = new Map<string, number>();
        for (const line of text.split("\n")) {
          const [, name, labels = "", value] = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line) ?? [];
          if (name === undefined) continue;
          for (const counter of names) {
            const [wanted, label] = counter.replace("}", "").split("{");
            if (wanted !== name || (label !== undefined && !labels.split(",").includes(label))) continue;
            totals.set(counter, (totals.get(counter) ?? 0) + Number(value));
          }
        }
        readings.set(`${node.nodeId}/${node.child.pid}`, { node, totals });
      }),
  );
  return readings;
}

/** How much `name` grew between two readings on the nodes `which` picks; a process new since counts from zero. */
export function growth(
  before: MetricReadings,
  after: MetricReadings,
  name: string,
  which: (node: ClusterNode) => boolean = () => true,
): number {
  let total = 0;
  for (const [process, { node, totals }] of after) {
    if (!which(node)) continue;
    total += Math.max(0, (totals.get(name) ?? 0) - (before.get(process)?.totals.get(name) ?? 0));
  }
  return total;
}
