import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEngine } from "../../deploy/local/engine.js";
import { startRedis } from "../../deploy/local/redis.js";
import type { UserId } from "../../runtime/ids.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { FanoutFixture, fence, pushedSequences } from "./fanout-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

/**
 * Routing lives in a Redis of this suite's own (a redis-server child process, stopped by its pid), so it can go
 * down without touching the shared one. Gateways are reached over gRPC, as in a cluster.
 */
describe.skipIf(!dynamodb || !redisUrl || !kafka)("fanout while Redis is down", () => {
  let redis: RunningEngine;
  let cacheDir: string;
  let fixture: FanoutFixture;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), "fanout-redis-"));
    redis = await startRedis({ cacheDir, progress: () => {} });
    fixture = await FanoutFixture.start({
      dynamodb: dynamodb ?? "",
      kafka: kafka ?? "",
      redisUrl: redis.endpoint,
      grpc: true,
    });
  });

  afterAll(async () => {
    await redis?.stop();
    await fixture?.cleanup();
    if (cacheDir !== undefined) rmSync(cacheDir, { recursive: true, force: true });
  });

  it("broadcasts to every live gateway it knew, and each pushes only to its own connections", async () => {
    const worker = await fixture.startWorker();
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob] = users(fixture, 2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayB);

    const routed = await fixture.send(aliceClient, chat, "while Redis is up");
    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === routed.payload.sequence,
    );
    expect(worker.stats().routing).toMatchObject({ routed: 1, broadcast: 0 });

    await redis.stop();
    // Past the refresh period: the worker tries to re-read the live gateways, fails, and keeps its last list.
    fixture.ingest.clock.advance(6_000);
    const broadcast = await fixture.send(aliceClient, chat, "while Redis is down");
    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === broadcast.payload.sequence,
      20_000,
    );
    await waitFor(() => worker.stats().records.done >= 2, { what: "the broadcast record to be done" });
    const stats = worker.stats();
    expect(stats.routing.broadcast).toBe(1);
    expect(stats.routing.gatewayListFailures).toBeGreaterThanOrEqual(1);
    // Both gateways were called; only B had bob, only A had alice (whose sending connection gets it too).
    expect(stats.pushes.calls).toBeGreaterThanOrEqual(3);
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual([routed.payload.sequence, broadcast.payload.sequence]);
    for (const client of [aliceClient, bobClient]) client.close();
    await worker.stop();
  });
});

const users = (fixture: FanoutFixture, count: number): UserId[] =>
  Array.from({ length: count }, () => fixture.ingest.ids.user());
