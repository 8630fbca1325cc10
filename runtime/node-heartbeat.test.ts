import { describe, expect, it } from "vitest";
import { MemoryNodeRegistry } from "./adapters/memory/node-registry.js";
import { ManualClock } from "./clock.js";
import { createLogger } from "./logger.js";
import { NodeHeartbeat } from "./node-heartbeat.js";
import type { NodeInfo } from "./ports/routing.js";

const node: NodeInfo = { nodeId: "ingest-1", role: "ingest", address: "127.0.0.1:7001", startedAt: 0 };
const quiet = createLogger({ level: "silent" });

/** Lets the promise continuations of a fired timer run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("NodeHeartbeat", () => {
  it("keeps a node live for many TTLs while it beats", async () => {
    const clock = new ManualClock(0);
    const registry = new MemoryNodeRegistry({ clock });
    const heartbeat = new NodeHeartbeat(registry, [node], 3_000, clock, quiet);
    await heartbeat.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(heartbeat.intervalMs);
      await settle();
    }
    expect((await registry.liveNodes("ingest")).map((n) => n.nodeId)).toEqual(["ingest-1"]);

    await heartbeat.stop();
  });

  it("leaves the registry at once on stop instead of waiting for the TTL", async () => {
    const clock = new ManualClock(0);
    const registry = new MemoryNodeRegistry({ clock });
    const heartbeat = new NodeHeartbeat(registry, [node], 3_000, clock, quiet);
    await heartbeat.start();
    await heartbeat.stop();
    expect(await registry.liveNodes()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
