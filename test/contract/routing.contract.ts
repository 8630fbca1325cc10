import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SystemClock } from "../../runtime/clock.js";
import { IdFactory, type UserId } from "../../runtime/ids.js";
import type {
  ConnectionEntry,
  ConnectionRegistry,
  NodeInfo,
  NodeRegistry,
  NodeRole,
} from "../../runtime/ports/routing.js";

/**
 * One contract for every adapter of the routing ports (memory, Redis). Expiry is driven by `passTime`: the
 * memory adapters advance their ManualClock, Redis waits in real time for its own TTLs. So every TTL here is
 * a multiple of the adapter's `ttlMs`, and each check sits well inside or well past a TTL, never at its edge.
 */
export interface RoutingFixture<Registry> {
  readonly registry: Registry;
  /** Lets at least `ms` pass for the registry's expiry. */
  passTime(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface RoutingContractTiming {
  /** The base TTL: short for a real engine (waited for), any value for a ManualClock. */
  readonly ttlMs: number;
}

type Make<Registry> = () => RoutingFixture<Registry> | Promise<RoutingFixture<Registry>>;

/** Entry timestamps are plain data to the registries (they expire by their own clock), so fixed ones do. */
const T0 = Date.UTC(2026, 0, 1);

export function describeConnectionRegistryContract(
  name: string,
  make: Make<ConnectionRegistry>,
  timing: RoutingContractTiming,
): void {
  describe(`ConnectionRegistry contract: ${name}`, () => {
    const ttl = timing.ttlMs;
    const ids = new IdFactory(new SystemClock());
    let fixture: RoutingFixture<ConnectionRegistry>;
    let registry: ConnectionRegistry;

    beforeEach(async () => {
      fixture = await make();
      registry = fixture.registry;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const connection = (userId: UserId, overrides: Partial<ConnectionEntry> = {}): ConnectionEntry => ({
      connectionId: ids.connection(),
      userId,
      deviceId: "phone",
      gatewayId: "gw-a",
      connectedAt: T0,
      lastHeartbeatAt: T0,
      ...overrides,
    });
    const gatewaysOf = async (userId: UserId) => (await registry.gatewaysOfUsers([userId])).get(userId);
    const presenceOf = async (userId: UserId) => (await registry.presenceOf([userId])).get(userId);

    it("a registered connection is returned by getConnection and by connectionsOfUser, ordered by id", async () => {
      const user = ids.user();
      const first = connection(user, { deviceId: "laptop", gatewayId: "gw-b", connectedAt: T0 + 1 });
      const second = connection(user, { deviceId: "phone", lastHeartbeatAt: T0 + 5 });
      // Registered in reverse id order: the order of the answer must come from the ids.
      expect(await registry.register(second, ttl)).toEqual([]);
      expect(await registry.register(first, ttl)).toEqual([]);

      expect(await registry.getConnection(first.connectionId)).toEqual(first);
      expect(await registry.connectionsOfUser(user)).toEqual([first, second]);
    });

    it("an unknown connection is undefined and an unknown user has no connections", async () => {
      expect(await registry.getConnection(ids.connection())).toBeUndefined();
      expect(await registry.connectionsOfUser(ids.user())).toEqual([]);
    });

    it("a second connection of the same (user, device) returns the first as duplicate; other devices and users do not", async () => {
      const user = ids.user();
      const first = connection(user, { deviceId: "phone", gatewayId: "gw-a" });
      expect(await registry.register(first, ttl)).toEqual([]);
      expect(await registry.register(connection(user, { deviceId: "laptop" }), ttl)).toEqual([]);
      expect(await registry.register(connection(ids.user(), { deviceId: "phone" }), ttl)).toEqual([]);

      const second = connection(user, { deviceId: "phone", gatewayId: "gw-b" });
      expect(await registry.register(second, ttl)).toEqual([first]);
    });

    it("registering the same connection again does not report it as its own duplicate", async () => {
      const entry = connection(ids.user());
      await registry.register(entry, ttl);
      expect(await registry.register(entry, ttl)).toEqual([]);
      expect(await registry.connectionsOfUser(entry.userId)).toEqual([entry]);
    });

    it("concurrent registrations of one (user, device) each report every one registered before it", async () => {
      const user = ids.user();
      const entries = Array.from({ length: 8 }, () => connection(user));
      const duplicates = await Promise.all(entries.map((entry) => registry.register(entry, ttl)));
      // Atomic registration serialises them: the k-th to commit saw exactly k earlier ones.
      expect(duplicates.map((found) => found.length).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it("a duplicate whose entry expired is not reported", async () => {
      const user = ids.user();
      await registry.register(connection(user), ttl);
      await fixture.passTime(ttl * 1.5);
      expect(await registry.register(connection(user), ttl)).toEqual([]);
    });

    it("gatewaysOfUsers answers many users at once: distinct gateways, sorted, and [] without connections", async () => {
      const gateways = ["gw-c", "gw-a", "gw-b"];
      const online = Array.from({ length: 30 }, () => ids.user());
      const expected = new Map<UserId, string[]>();
      for (const [i, user] of online.entries()) {
        const mine = gateways.slice(0, 1 + (i % 3));
        for (const gatewayId of mine) await registry.register(connection(user, { gatewayId }), ttl);
        // A second connection on the same gateway must not repeat it.
        await registry.register(connection(user, { gatewayId: mine[0], deviceId: "tablet" }), ttl);
        expected.set(user, [...mine].sort());
      }
      // More users than one script batch (500), most of them never seen.
      const offline = Array.from({ length: 600 }, () => ids.user());
      for (const user of offline) expected.set(user, []);

      const found = await registry.gatewaysOfUsers([
        ...offline.slice(0, 300),
        ...online,
        ...offline.slice(300),
      ]);
      expect(found).toEqual(expected);
    });

    it("unregister removes only that connection and keeps the user's gateway while another connection of the user is on it", async () => {
      const user = ids.user();
      const onA1 = connection(user, { gatewayId: "gw-a", deviceId: "phone" });
      const onA2 = connection(user, { gatewayId: "gw-a", deviceId: "laptop" });
      const onB = connection(user, { gatewayId: "gw-b", deviceId: "tablet" });
      for (const entry of [onA1, onA2, onB]) await registry.register(entry, ttl);

      await registry.unregister(onA1, T0 + 10);
      expect(await registry.getConnection(onA1.connectionId)).toBeUndefined();
      expect(await registry.connectionsOfUser(user)).toEqual([onA2, onB]);
      expect(await gatewaysOf(user)).toEqual(["gw-a", "gw-b"]);

      await registry.unregister(onB, T0 + 20);
      expect(await gatewaysOf(user)).toEqual(["gw-a"]);
      await registry.unregister(onA2, T0 + 30);
      expect(await gatewaysOf(user)).toEqual([]);
      expect(await registry.connectionsOfUser(user)).toEqual([]);
    });

    it("unregister tolerates a connection that already expired or never existed", async () => {
      const entry = connection(ids.user());
      await registry.register(entry, ttl);
      await fixture.passTime(ttl * 1.5);
      await expect(registry.unregister(entry, T0 + 10)).resolves.toBeUndefined();
      const never = { connectionId: ids.connection(), userId: ids.user(), gatewayId: "gw-a" };
      await expect(registry.unregister(never, T0 + 10)).resolves.toBeUndefined();
    });

    it("a connection expires after its ttl without refresh", async () => {
      const entry = connection(ids.user());
      await registry.register(entry, ttl);
      expect(await registry.getConnection(entry.connectionId)).toEqual(entry);

      await fixture.passTime(ttl * 1.5);
      expect(await registry.getConnection(entry.connectionId)).toBeUndefined();
      expect(await registry.connectionsOfUser(entry.userId)).toEqual([]);
      expect(await gatewaysOf(entry.userId)).toEqual([]);
      expect((await presenceOf(entry.userId))?.status).toBe("offline");
    });

    it("refresh keeps connections alive past the original ttl and records the heartbeat time", async () => {
      const user = ids.user();
      const entries = [connection(user), connection(user, { deviceId: "laptop" })];
      for (const entry of entries) await registry.register(entry, ttl);
      await fixture.passTime(ttl * 0.5);

      await registry.refresh("gw-a", entries, ttl * 4, T0 + 500);
      await fixture.passTime(ttl);
      const refreshed = entries.map((entry) => ({ ...entry, lastHeartbeatAt: T0 + 500 }));
      expect(await registry.connectionsOfUser(user)).toEqual(refreshed);
      expect(await gatewaysOf(user)).toEqual(["gw-a"]);
    });

    it("refresh re-creates connections whose entry already expired", async () => {
      const entry = connection(ids.user(), { gatewayId: "gw-b" });
      await registry.register(entry, ttl);
      await fixture.passTime(ttl * 1.5);
      expect(await registry.getConnection(entry.connectionId)).toBeUndefined();

      await registry.refresh("gw-b", [entry], ttl * 4, T0 + 900);
      const recreated = { ...entry, lastHeartbeatAt: T0 + 900 };
      expect(await registry.getConnection(entry.connectionId)).toEqual(recreated);
      expect(await registry.connectionsOfUser(entry.userId)).toEqual([recreated]);
      expect(await gatewaysOf(entry.userId)).toEqual(["gw-b"]);
      expect(await presenceOf(entry.userId)).toEqual({ status: "online", lastSeenAt: null });
    });

    it("a connection left out of its gateway's refresh expires while the user's refreshed one stays routable", async () => {
      const user = ids.user();
      const kept = connection(user, { gatewayId: "gw-a", deviceId: "phone" });
      const dropped = connection(user, { gatewayId: "gw-b", deviceId: "laptop" });
      await registry.register(kept, ttl);
      await registry.register(dropped, ttl);
      await fixture.passTime(ttl * 0.5);
      // The user's sets now live on through `kept`, still holding `dropped`: reads must skip it.
      await registry.refresh("gw-a", [kept], ttl * 4, T0 + 700);
      await fixture.passTime(ttl);

      expect(await registry.getConnection(dropped.connectionId)).toBeUndefined();
      expect(await registry.connectionsOfUser(user)).toEqual([{ ...kept, lastHeartbeatAt: T0 + 700 }]);
      expect(await gatewaysOf(user)).toEqual(["gw-a"]);
      expect(await registry.register(connection(user, { deviceId: "laptop" }), ttl)).toEqual([]);
    });

    it("a connection registered with a shorter ttl does not cut short the user's other connections", async () => {
      const user = ids.user();
      const long = connection(user, { gatewayId: "gw-a", deviceId: "phone" });
      await registry.register(long, ttl * 4);
      await registry.register(connection(user, { gatewayId: "gw-b", deviceId: "laptop" }), ttl);
      await fixture.passTime(ttl * 1.5);

      expect(await registry.connectionsOfUser(user)).toEqual([long]);
      expect(await gatewaysOf(user)).toEqual(["gw-a"]);
      expect(await registry.register(connection(user, { deviceId: "phone" }), ttl)).toEqual([long]);
    });

    it("presence is online while a connection lives and offline with lastSeenAt at the last unregister", async () => {
      const user = ids.user();
      const never = ids.user();
      const phone = connection(user, { deviceId: "phone" });
      const laptop = connection(user, { deviceId: "laptop" });
      await registry.register(phone, ttl);
      await registry.register(laptop, ttl);
      expect(await presenceOf(user)).toEqual({ status: "online", lastSeenAt: null });

      await registry.unregister(phone, T0 + 1_000);
      expect(await presenceOf(user)).toEqual({ status: "online", lastSeenAt: null });
      await registry.unregister(laptop, T0 + 2_000);
      const presence = await registry.presenceOf([user, never]);
      expect(presence).toEqual(
        new Map([
          [user, { status: "offline", lastSeenAt: T0 + 2_000 }],
          [never, { status: "offline", lastSeenAt: null }],
        ]),
      );
    });

    it("a user whose connections expired is offline with lastSeenAt at the last heartbeat", async () => {
      const entry = connection(ids.user());
      await registry.register(entry, ttl);
      await registry.refresh("gw-a", [entry], ttl, T0 + 3_000);
      await fixture.passTime(ttl * 1.5);
      expect(await presenceOf(entry.userId)).toEqual({ status: "offline", lastSeenAt: T0 + 3_000 });
    });
  });
}

export function describeNodeRegistryContract(
  name: string,
  make: Make<NodeRegistry>,
  timing: RoutingContractTiming,
): void {
  describe(`NodeRegistry contract: ${name}`, () => {
    const ttl = timing.ttlMs;
    let fixture: RoutingFixture<NodeRegistry>;
    let registry: NodeRegistry;

    beforeEach(async () => {
      fixture = await make();
      registry = fixture.registry;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const node = (nodeId: string, role: NodeRole, overrides: Partial<NodeInfo> = {}): NodeInfo => ({
      nodeId,
      role,
      address: `127.0.0.1:${5000 + nodeId.length}`,
      startedAt: T0,
      ...overrides,
    });

    it("heartbeat makes nodes live; liveNodes lists them ordered by node id and filters by role", async () => {
      const nodes = [node("ingest-2", "ingest"), node("gateway-1", "gateway"), node("ingest-1", "ingest")];
      for (const info of nodes) await registry.heartbeat(info, ttl);

      expect(await registry.liveNodes()).toEqual([nodes[1], nodes[2], nodes[0]]);
      expect(await registry.liveNodes("ingest")).toEqual([nodes[2], nodes[0]]);
      expect(await registry.liveNodes("fanout")).toEqual([]);
    });

    it("a repeated heartbeat updates the node instead of adding another", async () => {
      await registry.heartbeat(node("ingest-1", "ingest", { address: "10.0.0.1:7000" }), ttl);
      const moved = node("ingest-1", "ingest", { address: "10.0.0.2:7000", startedAt: T0 + 60_000 });
      await registry.heartbeat(moved, ttl);
      expect(await registry.liveNodes()).toEqual([moved]);
    });

    it("a heartbeat carries the node's placement progress, and the latest one is what peers read", async () => {
      const placement = { ringVersion: 3, activeActors: 12, handoffsPending: 2 };
      await registry.heartbeat(node("ingest-1", "ingest", { placement }), ttl);
      expect((await registry.liveNodes("ingest"))[0]?.placement).toEqual(placement);
      const applied = { ringVersion: 4, activeActors: 10, handoffsPending: 0 };
      await registry.heartbeat(node("ingest-1", "ingest", { placement: applied }), ttl);
      expect((await registry.liveNodes("ingest"))[0]?.placement).toEqual(applied);
    });

    it("leave removes the node at once and tolerates an unknown node", async () => {
      const staying = node("gateway-1", "gateway");
      await registry.heartbeat(staying, ttl);
      await registry.heartbeat(node("gateway-2", "gateway"), ttl * 4);

      await registry.leave("gateway-2");
      await registry.leave("never-joined");
      expect(await registry.liveNodes()).toEqual([staying]);
    });

    it("a node expires after its ttl without heartbeat while a heartbeating node stays live", async () => {
      const silent = node("ingest-1", "ingest");
      const beating = node("ingest-2", "ingest");
      await registry.heartbeat(silent, ttl);
      await registry.heartbeat(beating, ttl);
      await fixture.passTime(ttl * 0.5);
      await registry.heartbeat(beating, ttl * 4);

      await fixture.passTime(ttl);
      expect(await registry.liveNodes()).toEqual([beating]);
      expect(await registry.liveNodes("ingest")).toEqual([beating]);
    });
  });
}
