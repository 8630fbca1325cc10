import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/free-port.js";
import { MemoryConnectionRegistry } from "../../runtime/adapters/memory/connection-registry.js";
import { MemoryNodeRegistry } from "../../runtime/adapters/memory/node-registry.js";
import { RedisConnectionRegistry } from "../../runtime/adapters/redis/connection-registry.js";
import { RedisNodeRegistry } from "../../runtime/adapters/redis/node-registry.js";
import { ManualClock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { ConnectionId, UserId } from "../../runtime/ids.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { describeConnectionRegistryContract, describeNodeRegistryContract } from "./routing.contract.js";

/** D6's production TTL: with a ManualClock the value costs nothing. */
const MEMORY_TTL_MS = 30_000;
/**
 * Redis expires keys by its own clock, so its tests wait in real time: short enough for a fast suite, long
 * enough that a check meant to land inside a TTL is not pushed past it by a busy machine.
 */
const REDIS_TTL_MS = 300;

describe("memory routing", () => {
  describeConnectionRegistryContract(
    "memory",
    () => {
      const clock = new ManualClock();
      return {
        registry: new MemoryConnectionRegistry({ clock }),
        passTime: async (ms) => clock.advance(ms),
        cleanup: async () => {},
      };
    },
    { ttlMs: MEMORY_TTL_MS },
  );
  describeNodeRegistryContract(
    "memory",
    () => {
      const clock = new ManualClock();
      return {
        registry: new MemoryNodeRegistry({ clock }),
        passTime: async (ms) => clock.advance(ms),
        cleanup: async () => {},
      };
    },
    { ttlMs: MEMORY_TTL_MS },
  );
});

const redisUrl = engineEndpoint("redis");

describe.skipIf(!redisUrl)("redis routing", () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl ?? "");
  });
  afterAll(async () => {
    await client.quit();
  });

  /** Redis compares expiry times at millisecond resolution: one more millisecond makes "past" certain. */
  const passTime = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms + 1));
  /** Each test gets its own prefix; cleanup removes what it wrote. */
  const deleteKeys = async (prefix: string) => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  };

  describeConnectionRegistryContract(
    "redis",
    () => {
      const keyPrefix = `${uniqueName("routing-")}:`;
      return {
        registry: new RedisConnectionRegistry({ redis: client, keyPrefix }),
        passTime,
        cleanup: () => deleteKeys(keyPrefix),
      };
    },
    { ttlMs: REDIS_TTL_MS },
  );
  describeNodeRegistryContract(
    "redis",
    () => {
      const keyPrefix = `${uniqueName("nodes-")}:`;
      return {
        registry: new RedisNodeRegistry({ redis: client, keyPrefix }),
        passTime,
        cleanup: () => deleteKeys(keyPrefix),
      };
    },
    { ttlMs: REDIS_TTL_MS },
  );

  it("every key the registries write starts with the key prefix and expires", async () => {
    const keyPrefix = `${uniqueName("keys-")}:`;
    const connections = new RedisConnectionRegistry({ redis: client, keyPrefix });
    const nodes = new RedisNodeRegistry({ redis: client, keyPrefix });
    const userId = "user_01JABCDEFGHJKMNPQRSTVWXYZ0" as UserId;
    const connectionId = "conn_01JABCDEFGHJKMNPQRSTVWXYZ0" as ConnectionId;
    const entry = {
      connectionId,
      userId,
      deviceId: "phone",
      gatewayId: "gw-a",
      connectedAt: 1,
      lastHeartbeatAt: 2,
    };
    await connections.register(entry, 10_000);
    await nodes.heartbeat(
      { nodeId: "gateway-1", role: "gateway", address: "127.0.0.1:1", startedAt: 1 },
      10_000,
    );

    const keys = (await client.keys(`${keyPrefix}*`)).sort();
    expect(keys).toEqual(
      [
        `connection:${connectionId}`,
        `last_seen:${userId}`,
        "node:gateway-1",
        "nodes",
        "gateway_connections:gw-a",
        `user_connections:${userId}`,
        `user_device:${userId}:phone`,
        `user_gateways:${userId}`,
      ]
        .map((key) => keyPrefix + key)
        .sort(),
    );
    for (const key of keys) expect(await client.pttl(key), key).toBeGreaterThan(0);
    await deleteKeys(keyPrefix);
  });

  it("user_gateways, the spec's lookup key, holds exactly the gateways of the user's live connections", async () => {
    const keyPrefix = `${uniqueName("gateways-")}:`;
    const registry = new RedisConnectionRegistry({ redis: client, keyPrefix });
    const userId = "user_01JABCDEFGHJKMNPQRSTVWXYZ1" as UserId;
    const entry = (n: number, gatewayId: string) => ({
      connectionId: `conn_01JABCDEFGHJKMNPQRSTVWXYZ${n}` as ConnectionId,
      userId,
      deviceId: `device-${n}`,
      gatewayId,
      connectedAt: 1,
      lastHeartbeatAt: 1,
    });
    const [a1, a2, b] = [entry(1, "gw-a"), entry(2, "gw-a"), entry(3, "gw-b")];
    for (const connection of [a1, a2, b]) await registry.register(connection, 10_000);
    const members = async () => (await client.smembers(`${keyPrefix}user_gateways:${userId}`)).sort();

    await registry.unregister(a1, 2);
    expect(await members()).toEqual(["gw-a", "gw-b"]);
    await registry.unregister(b, 3);
    expect(await members()).toEqual(["gw-a"]);
    await registry.unregister(a2, 4);
    expect(await members()).toEqual([]);
    await deleteKeys(keyPrefix);
  });

  it("a registry pointed at a closed port rejects with SERVICE_UNAVAILABLE within 3 s instead of hanging", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const connections = new RedisConnectionRegistry({ redis: url, keyPrefix: "down:" });
    const nodes = new RedisNodeRegistry({ redis: url, keyPrefix: "down:" });
    const started = Date.now();
    const outcomes = await Promise.allSettled([
      connections.connectionsOfUser("user_01JABCDEFGHJKMNPQRSTVWXYZ0" as UserId),
      connections.getConnection("conn_01JABCDEFGHJKMNPQRSTVWXYZ0" as ConnectionId),
      nodes.liveNodes(),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const error = outcome.status === "rejected" ? outcome.reason : undefined;
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("SERVICE_UNAVAILABLE");
      expect((error as AppError).cause).toBeInstanceOf(Error);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    await Promise.all([connections.close(), nodes.close()]);
  });
});
