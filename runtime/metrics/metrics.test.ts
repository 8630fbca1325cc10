import { describe, expect, it } from "vitest";
import { METRICS, type MetricSpec } from "./catalog.js";
import { Metrics } from "./metrics.js";
import { durabilityRecorder, gatewayRecorder } from "./recorders.js";

/** The value of one sample line of a text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    const found = Object.fromEntries(
      [...body.matchAll(/([a-z_]+)="([^"]*)"/g)].map((match) => [match[1], match[2]] as const),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("Metrics", () => {
  it("exports every catalog metric with the process's instance and role on every sample", async () => {
    const metrics = new Metrics({ instance: "node-a", role: "gateway" });
    const text = await metrics.scrape();
    for (const spec of Object.values(METRICS) as MetricSpec[]) {
      expect(text).toContain(`# TYPE ${spec.name} ${spec.type}`);
    }
    const samples = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    expect(samples.length).toBeGreaterThan(0);
    for (const line of samples)
      expect(line).toMatch(/instance="node-a".*role="gateway"|role="gateway".*instance="node-a"/);
  });

  it("keeps two processes' metrics apart (a registry each, never the global one)", async () => {
    const a = new Metrics({ instance: "a", role: "all" });
    const b = new Metrics({ instance: "b", role: "all" });
    durabilityRecorder(a).messageWritten();
    durabilityRecorder(a).messageWritten();
    durabilityRecorder(b).messageWritten();
    expect(sample(await a.scrape(), "durability_messages_persisted_total", { instance: "a" })).toBe(2);
    expect(sample(await b.scrape(), "durability_messages_persisted_total", { instance: "b" })).toBe(1);
  });

  it("exports known label values at 0 before the first event, then counts through bound children", async () => {
    const metrics = new Metrics({ instance: "n", role: "all" });
    const before = await metrics.scrape();
    expect(sample(before, "gateway_connections_closed_total", { reason: "slow_consumer" })).toBe(0);
    expect(
      sample(before, "security_rate_limits_total", { endpoint: "sync_request", limit_type: "in_flight" }),
    ).toBe(0);
    const gateway = gatewayRecorder(metrics);
    gateway.serverClosed("slow_consumer");
    gateway.rateLimited("send_message", "rate");
    gateway.sendAcknowledged(0.02);
    const after = await metrics.scrape();
    expect(sample(after, "gateway_connections_closed_total", { reason: "slow_consumer" })).toBe(1);
    expect(sample(after, "gateway_slow_consumer_disconnects_total", {})).toBe(1);
    expect(
      sample(after, "security_rate_limits_total", { endpoint: "send_message", limit_type: "rate" }),
    ).toBe(1);
    expect(sample(after, "gateway_send_latency_seconds_bucket", { le: "0.01" })).toBe(0);
    expect(sample(after, "gateway_send_latency_seconds_bucket", { le: "0.025" })).toBe(1);
  });

  it("fills scrape-time metrics from their collectors on every scrape, until removed", async () => {
    const metrics = new Metrics({ instance: "n", role: "all" });
    let connections = 3;
    const remove = metrics.onScrape("gatewayConnectionsActive", () =>
      metrics.metric("gatewayConnectionsActive").set(connections),
    );
    expect(sample(await metrics.scrape(), "gateway_connections_active", {})).toBe(3);
    connections = 5;
    expect(sample(await metrics.scrape(), "gateway_connections_active", {})).toBe(5);
    remove();
    connections = 9;
    expect(sample(await metrics.scrape(), "gateway_connections_active", {})).toBe(5);
  });

  it("labels a failed persist by its error code in lower case", async () => {
    const metrics = new Metrics({ instance: "n", role: "all" });
    const durability = durabilityRecorder(metrics);
    durability.persistFailed("NOT_A_MEMBER");
    durability.persisted(true, 0.001);
    const text = await metrics.scrape();
    expect(sample(text, "durability_persist_total", { status: "not_a_member" })).toBe(1);
    expect(sample(text, "durability_persist_total", { status: "deduplicated" })).toBe(1);
    expect(sample(text, "durability_idempotency_hits_total", {})).toBe(1);
  });
});
