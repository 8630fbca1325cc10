import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { METRICS, type MetricKey, type MetricSpec } from "./catalog.js";

type Catalog = typeof METRICS;
type LabelName<K extends MetricKey> = Extract<keyof Catalog[K]["labels"], string>;

/** The prom-client object of a catalog entry, typed by its kind and label names. */
export type MetricOf<K extends MetricKey> = Catalog[K]["type"] extends "counter"
  ? Counter<LabelName<K>>
  : Catalog[K]["type"] extends "gauge"
    ? Gauge<LabelName<K>>
    : Histogram<LabelName<K>>;

/** The keys of the catalog's counters. */
export type CounterKey = {
  [K in MetricKey]: Catalog[K]["type"] extends "counter" ? K : never;
}[MetricKey];

/** Fills scrape-time metrics from a live component; runs on every scrape, before the text is written. */
export type ScrapeCollector = () => void | Promise<void>;

export interface MetricsIdentity {
  /** The node id: the `instance` label of every sample. */
  readonly instance: string;
  /** The process's role (`all` when embedded): the `role` label of every sample. */
  readonly role: string;
}

/**
 * The metrics of one process: every catalog entry on a registry of its own (never prom-client's global
 * one, so several platforms in one test process do not collide), with `instance` and `role` on every
 * sample. Components record through the narrow recorders of ./recorders.ts; live components that already
 * hold a value (connection count, ring version, the fanout worker's counters) register a collector that
 * reads it on scrape instead of a timer that polls it.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly objects = new Map<MetricKey, Counter | Gauge | Histogram>();
  private readonly collectors = new Map<MetricKey, Set<ScrapeCollector>>();

  constructor(identity: MetricsIdentity) {
    this.registry.setDefaultLabels({ instance: identity.instance, role: identity.role });
    for (const [key, spec] of Object.entries(METRICS) as Array<[MetricKey, MetricSpec]>) {
      this.objects.set(key, this.create(key, spec));
    }
  }

  /** The prom-client object of a catalog entry. */
  metric<K extends MetricKey>(key: K): MetricOf<K> {
    return this.objects.get(key) as MetricOf<K>;
  }

  /** Runs `collect` on every scrape to fill `key`; returns the function that removes it. */
  onScrape(key: MetricKey, collect: ScrapeCollector): () => void {
    let set = this.collectors.get(key);
    if (set === undefined) {
      set = new Set();
      this.collectors.set(key, set);
    }
    set.add(collect);
    return () => set.delete(collect);
  }

  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private create(key: MetricKey, spec: MetricSpec): Counter | Gauge | Histogram {
    const labelNames = Object.keys(spec.labels);
    const collectors = this.collectors;
    const common = {
      name: spec.name,
      help: spec.help,
      labelNames,
      registers: [this.registry],
      // Collectors run before prom-client reads the values; none registered costs one map lookup per scrape.
      collect: async () => {
        const set = collectors.get(key);
        if (set !== undefined) for (const collect of set) await collect();
      },
    };
    const metric =
      spec.type === "counter"
        ? new Counter(common)
        : spec.type === "gauge"
          ? new Gauge(common)
          : new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] });
    // Series with known label values exist from the start at 0, so rates and alerts see them before the
    // first event (a missing series is not a zero to PromQL).
    if (spec.source === "inline") {
      for (const labels of combinations(spec.labels)) {
        if (metric instanceof Histogram) metric.zero(labels);
        else if (metric instanceof Counter) metric.inc(labels, 0);
      }
    }
    return metric;
  }
}

/** Every combination of the fixed label values; none when a label's values are only known at run time. */
function combinations(labels: MetricSpec["labels"]): Array<Record<string, string>> {
  let result: Array<Record<string, string>> = [{}];
  for (const [name, values] of Object.entries(labels)) {
    if (values === "dynamic") return [];
    result = result.flatMap((partial) => values.map((value) => ({ ...partial, [name]: value })));
  }
  return Object.keys(labels).length === 0 ? [] : result;
}
