import { describe, expect, it } from "vitest";
import { ActorHost } from "../../runtime/actor-host.js";
import { MemoryNodeRegistry } from "../../runtime/adapters/memory/node-registry.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { createLogger } from "../../runtime/logger.js";
import { createPlatformMetrics } from "../../runtime/metrics/platform-metrics.js";
import { ChatOwnership } from "../../runtime/placement/ownership.js";
import { RingView } from "../../runtime/placement/ring-view.js";
import { parseExposition, sampleValue } from "./exposition.js";

const logger = createLogger({ level: "silent" });

/**
 * An ingest node's ring and actors on the in-memory placement adapters: the ring version and its changes
 * are read from the node's view, and the chats a ring change moves away are counted as passivations.
 */
describe("placement metrics", () => {
  it("follow the ring's version and changes, and count the chats handed off when the ring moves them", async () => {
    const clock = new ManualClock();
    const nodes = new MemoryNodeRegistry({ clock });
    for (const nodeId of ["node-a", "node-b"])
      await nodes.heartbeat({ nodeId, role: "ingest", address: nodeId, startedAt: clock.now() }, 3_600_000);
    const store = new MemoryRingStore(clock);
    await store.write(0, [{ nodeId: "node-a", weight: 100, state: "active" }]);
    const view = new RingView({ store, nodes, clock, logger, refreshMs: 3_600_000 });
    await view.refresh();

    const platform = createPlatformMetrics(
      { nodeId: "node-a", role: "ingest", kafkaBrokers: undefined, fanoutGroup: "unused" },
      clock,
      logger,
    );
    const host = new ActorHost<string, string>({
      create: () => ({
        activate: async () => {},
        receive: async (batch) => {
          for (const envelope of batch) envelope.resolve(envelope.message);
        },
        drain: async () => true,
        dispose: () => {},
      }),
      clock,
      logger,
      idleTimeoutMs: 3_600_000,
      maxBatch: 16,
      metrics: platform.actors,
    });
    const ownership = new ChatOwnership("node-a", view, host, logger);
    platform.observe({ ring: view, ingest: { host, sequencerOf: () => undefined } });
    const scrape = async () => parseExposition(await platform.metrics.scrape());

    const chats = ["chat_1", "chat_2", "chat_3"];
    for (const chat of chats) await host.ask(chat, "hello");
    let samples = await scrape();
    expect(sampleValue(samples, "placement_ring_version")).toBe(1);
    expect(sampleValue(samples, "placement_ring_owners")).toBe(1);
    expect(sampleValue(samples, "placement_ring_changes_total")).toBe(0);
    expect(sampleValue(samples, "durability_actors_active")).toBe(3);
    expect(sampleValue(samples, "durability_actor_activations_total", { outcome: "activated" })).toBe(3);

    // node-a drains: node-b owns every chat, and node-a hands its three off.
    await store.write(1, [
      { nodeId: "node-a", weight: 100, state: "draining" },
      { nodeId: "node-b", weight: 100, state: "active" },
    ]);
    await view.refresh();
    await ownership.handOff();
    samples = await scrape();
    expect(sampleValue(samples, "placement_ring_version")).toBe(2);
    expect(sampleValue(samples, "placement_ring_changes_total")).toBe(1);
    expect(sampleValue(samples, "durability_actor_passivations_total", { reason: "ownership_lost" })).toBe(3);
    expect(sampleValue(samples, "durability_actor_passivations_total", { reason: "idle" })).toBe(0);
    expect(sampleValue(samples, "durability_actors_active")).toBe(0);
    await platform.close();
  });
});
