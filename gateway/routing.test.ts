import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { RedisConnectionRegistry } from "../runtime/adapters/redis/connection-registry.js";
import { GatewayGrpcClient } from "../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { startGrpcServer } from "../runtime/grpc/grpc-server.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { createLogger } from "../runtime/logger.js";
import { uniqueName } from "../test/support/engines.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";
import {
  connect,
  connected,
  deleteKeys,
  newDevice,
  type TestClient,
} from "../test/support/gateway-harness.js";
import { syncAll } from "../test/support/sync-all.js";
import { waitFor } from "../test/support/wait-for.js";
import { createGateway } from "./gateway.js";

const USERS = 10;

describe.skipIf(!gatewayEnginesAvailable({ kafka: true }))("routing entries in Redis (D6)", () => {
  const gw = gatewayFixture({ kafka: true, gateway: { gatewayId: "gw-routing" } });
  const open = (userId: UserId): Promise<TestClient> => gw.open(userId);

  it("each connection is registered (connection, user -> gateways) and refreshed on the gateway's timer, not per heartbeat", async () => {
    const user = gw.ids.user();
    const client = await open(user);
    const connectionId = String(client.frames[0]?.payload.connection_id);
    expect((await gw.running.registry.gatewaysOfUsers([user])).get(user)).toEqual(["gw-routing"]);
    const entry = await gw.running.registry.getConnection(connectionId as never);
    const ttl = await gw.redis.pttl(`${gw.running.keyPrefix}connection:${connectionId}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    gw.clock.advance(10_000);
    await waitFor(async () => {
      const refreshed = await gw.running.registry.getConnection(connectionId as never);
      return refreshed !== undefined && refreshed.lastHeartbeatAt > (entry?.lastHeartbeatAt ?? 0);
    });
    client.close();
    await waitFor(async () => (await gw.running.registry.getConnection(connectionId as never)) === undefined);
  });

  it("Redis flushed under load: routing entries come back on the next refresh and nothing acknowledged is lost", async () => {
    const users = Array.from({ length: USERS }, () => gw.ids.user());
    const chat: ChatId = await gw.ingest.chatWith(users);
    const clients = await Promise.all(users.map((user) => open(user)));
    const acked = new Map<string, number>();
    let stop = false;
    const senders = clients.map(async (client, index) => {
      for (let i = 0; !stop && i < 200; i++) {
        const frame = {
          type: "send_message",
          request_id: randomUUID(),
          payload: { client_message_id: randomUUID(), chat_id: chat, content: `load ${index}.${i}` },
        };
        client.send(frame);
        const answer = await client.reply(frame.request_id);
        if (answer.type === "send_message_ack")
          acked.set(String(answer.payload.message_id), Number(answer.payload.sequence));
        else if (answer.payload.code !== "RATE_LIMITED") throw new Error(JSON.stringify(answer.payload));
      }
    });
    await waitFor(() => acked.size >= 20);
    // The "flush": every key of this gateway's routing namespace disappears, as after a Redis restart.
    await deleteKeys(gw.redis, gw.running.keyPrefix);
    expect((await gw.running.registry.gatewaysOfUsers(users)).get(users[0] as UserId)).toEqual([]);
    gw.clock.advance(10_000);
    await waitFor(async () => {
      const gateways = await gw.running.registry.gatewaysOfUsers(users);
      return users.every((user) => gateways.get(user)?.[0] === "gw-routing");
    });
    await waitFor(() => acked.size >= 60);
    stop = true;
    await Promise.all(senders);
    for (const user of users) expect(await gw.running.registry.connectionsOfUser(user)).toHaveLength(1);
    const sequences = await syncAll(clients[0] as TestClient, chat);
    const synced = new Set(sequences);
    for (const sequence of acked.values()) expect(synced.has(sequence)).toBe(true);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    for (const client of clients) client.close();
  }, 60_000);

  it("a device reconnecting through another gateway evicts its older connection there (duplicate_connection over gRPC)", async () => {
    const grpcServer = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (server) => addGatewayService(server, gw.running.gateway.api),
    });
    const toFirst = new GatewayGrpcClient({ address: `127.0.0.1:${grpcServer.port}` });
    const second = await gw.startGateway({
      gatewayId: "gw-second",
      keyPrefix: gw.running.keyPrefix,
      peers: { gateway: async (nodeId) => (nodeId === "gw-routing" ? toFirst : undefined) },
    });
    try {
      const user = gw.ids.user();
      const device = newDevice();
      const token = await gw.keys.token(user, gw.clock.now());
      const older = (await connected(gw.running.url, { token, deviceId: device })).client;
      const newer = (await connected(second.url, { token, deviceId: device })).client;
      const closing = await older.next((frame) => frame.type === "connection_closing");
      expect(closing.payload.reason).toBe("duplicate_connection");
      expect((await older.closed).code).toBe(1001);
      const entries = await waitFor(async () => {
        const live = await gw.running.registry.connectionsOfUser(user);
        return live.length === 1 ? live : undefined;
      });
      expect(entries[0]).toMatchObject({ gatewayId: "gw-second", deviceId: device });
      newer.close();
    } finally {
      await second.close();
      toFirst.close();
      await grpcServer.stop(1_000);
    }
  });

  it("while routing is unreachable, new upgrades are refused with 503 service_unavailable", async () => {
    const logger = createLogger({ level: "silent" });
    const deadRegistry = new RedisConnectionRegistry({
      redis: "redis://127.0.0.1:1",
      keyPrefix: `${uniqueName("dead-")}:`,
      redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 200, enableOfflineQueue: false },
    });
    const gateway = createGateway({
      gatewayId: "gw-dead",
      logger,
      clock: gw.clock,
      ids: gw.ids,
      ingest: gw.ingest.runtime(),
      connections: deadRegistry,
      keys: gw.keys.source,
    });
    const server = createServer();
    gateway.attach(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const result = await connect(`ws://127.0.0.1:${port}/v1/ws`, {
      token: await gw.keys.token(gw.ids.user(), gw.clock.now()),
      deviceId: newDevice(),
    });
    expect(result).toMatchObject({ refusal: { status: 503, body: { error: "service_unavailable" } } });
    expect(gateway.health()).toEqual({ healthy: false, draining: false, routingReachable: false });
    await gateway.drain(0);
    server.close();
    await deadRegistry.close();
  });
});
