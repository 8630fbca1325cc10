import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanChatIds } from "../../runtime/adapters/dynamodb/chat-scan.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { DynamoRingStore } from "../../runtime/adapters/dynamodb/ring-store.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { RedisNodeRegistry } from "../../runtime/adapters/redis/node-registry.js";
import { SystemClock } from "../../runtime/clock.js";
import { IngestGrpcClient } from "../../runtime/grpc/ingest-client.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { RingAdmin } from "../../runtime/placement/ring-admin.js";
import { RingView } from "../../runtime/placement/ring-view.js";
import { RoutedIngestClient } from "../../runtime/placement/routed-ingest.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import {
  type ClusterEnv,
  type IngestProcess,
  startIngestProcess,
  TEST_INTERNAL_GRPC_TOKEN,
} from "./ingest-cluster.js";
import { expectInvariants, loadUnderWay, percentile, sendLoad } from "./workload.js";

/**
 * Placement under load with real processes: ingest nodes run as `ROLE=ingest` processes on dynalite, Redis and
 * Kafka; this test is a gateway, routing by the ring. A node is added, one drained, one killed with SIGKILL,
 * each while chats are being written, and ARCHITECTURE.md §6 invariants 1–3 are checked after each.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");
const NODE_TTL_MS = 1_500;
const CHATS = 24;
const PER_CHAT = 20;

describe.skipIf(!dynamodb || !redis || !kafka)("placement with several ingest processes", () => {
  const clock = new SystemClock();
  const logger = createLogger({ level: "silent" });
  const prefix = uniqueName("place_");
  const client = createDynamoClient({ endpoint: dynamodb ?? "", region: "us-east-1" });
  const storeOptions = { client, tablePrefix: prefix, clock };
  const messageStore = new DynamoMessageStore(storeOptions);
  const registry = new RedisNodeRegistry({ redis: redis ?? "", keyPrefix: `${prefix}routing:` });
  const env: ClusterEnv = {
    DYNAMODB_ENDPOINT: dynamodb ?? "",
    REDIS_URL: redis ?? "",
    KAFKA_BROKERS: kafka ?? "",
    TABLE_PREFIX: prefix,
    NODE_TTL_MS: String(NODE_TTL_MS),
    RING_REFRESH_MS: "200",
  };
  const view = new RingView({
    store: new DynamoRingStore(storeOptions),
    nodes: registry,
    clock,
    logger,
    refreshMs: 200,
  });
  const admin = new RingAdmin({
    store: new DynamoRingStore(storeOptions),
    nodes: registry,
    clock,
    logger,
    chatIds: (limit) => scanChatIds(client, prefix, limit),
  });
  const router = new RoutedIngestClient({
    view,
    clock,
    logger,
    connect: (address) => new IngestGrpcClient({ address, internalToken: TEST_INTERNAL_GRPC_TOKEN }),
  });
  const nodes = new Map<string, IngestProcess>();
  let chats: { chatId: ChatId; sender: UserId }[] = [];

  const start = async (nodeId: string) => {
    const node = await startIngestProcess(nodeId, env);
    nodes.set(nodeId, node);
    return node;
  };
  const settled = (what: string) =>
    waitFor(async () => (await admin.status()).settled, { timeoutMs: 30_000, intervalMs: 100, what });

  beforeAll(async () => {
    await ensureTables(client, prefix);
    const ids = new IdFactory(clock);
    const chatStore = new DynamoChatStore(storeOptions);
    chats = await Promise.all(
      Array.from({ length: CHATS }, async () => {
        const sender = ids.user();
        return { chatId: await createActiveChat(chatStore, { ids, clock }, [sender, ids.user()]), sender };
      }),
    );
    await Promise.all([start("ingest-a"), start("ingest-b")]);
    await view.start();
    await waitFor(async () => (await view.refresh()).owners.length === 2, { what: "two owners" });
  }, 120_000);

  afterAll(async () => {
    view.stop();
    router.close();
    await Promise.all([...nodes.values()].map((node) => node.stop()));
    await registry.close();
    // Cleanup on a busy shared engine may time out; it must not fail the suite.
    await deleteTables(client, prefix).catch(() => {});
    client.destroy();
  }, 60_000);

  it("spreads the chats over both nodes and keeps every acknowledged message in order", async () => {
    const owners = new Set(chats.map(({ chatId }) => view.current().ownerIdOf(chatId)));
    expect(owners).toEqual(new Set(["ingest-a", "ingest-b"]));
    const load = await sendLoad(router, chats, 5, { tag: "warm" });
    expect(load.unacked).toEqual([]);
    await expectInvariants(messageStore, router, chats, load.acked);
  }, 60_000);

  it("adding a node under load moves chats to it without losing or duplicating a message", async () => {
    const before = new Map(chats.map(({ chatId }) => [chatId, view.current().ownerIdOf(chatId)]));
    const { result: load, underWay } = loadUnderWay(router, chats, PER_CHAT, chats.length, {
      pauseMs: 20,
      tag: "add",
    });
    await underWay;
    await start("ingest-c");
    await settled("the handoff to ingest-c to settle");
    const result = await load;
    expect(result.unacked).toEqual([]);
    const snapshot = await view.refresh();
    const moved = chats.filter(({ chatId }) => snapshot.ownerIdOf(chatId) !== before.get(chatId));
    expect(moved.length).toBeGreaterThan(0);
    for (const { chatId } of moved) expect(snapshot.ownerIdOf(chatId)).toBe("ingest-c");
    await expectInvariants(messageStore, router, chats, result.acked);
    console.log(
      `add under load: ${result.acked.length} acks, ${moved.length}/${CHATS} chats moved, ` +
        `p99 send ${percentile(
          result.acked.map((a) => a.latencyMs),
          99,
        )} ms, router ${JSON.stringify(router.stats)}`,
    );
  }, 120_000);

  it("draining a node under load hands all its chats off, and it ends with no active actor", async () => {
    const { result: load, underWay } = loadUnderWay(router, chats, PER_CHAT, chats.length, {
      pauseMs: 20,
      tag: "drain",
    });
    await underWay;
    const config = await admin.apply({ kind: "drain", nodeId: "ingest-a" });
    await settled("the drain of ingest-a to settle");
    const result = await load;
    expect(result.unacked).toEqual([]);
    await expectInvariants(messageStore, router, chats, result.acked);
    const snapshot = await view.refresh();
    expect(chats.some(({ chatId }) => snapshot.ownerIdOf(chatId) === "ingest-a")).toBe(false);
    const status = await admin.status();
    const drained = status.members.find((m) => m.nodeId === "ingest-a");
    expect(drained).toMatchObject({ state: "draining", live: true, share: 0, handoffsPending: 0 });
    expect(drained?.appliedVersion).toBeGreaterThanOrEqual(config.version);
    expect(drained?.activeActors).toBe(0);
  }, 120_000);

  it("after kill -9 of a node under load its chats are served by the survivors within the heartbeat TTL", async () => {
    // Bring ingest-a back so two survivors remain after the kill.
    await admin.apply({ kind: "activate", nodeId: "ingest-a" });
    await settled("ingest-a to own chats again");
    const victim = "ingest-b";
    const victimChats = chats.filter(({ chatId }) => view.current().ownerIdOf(chatId) === victim);
    expect(victimChats.length).toBeGreaterThan(0);
    const { result: load, underWay } = loadUnderWay(router, chats, PER_CHAT, chats.length, {
      pauseMs: 20,
      tag: "kill",
    });
    await underWay;
    const killedAt = Date.now();
    await nodes.get(victim)?.crash();
    nodes.delete(victim);
    const result = await load;
    expect(result.unacked).toEqual([]);
    await expectInvariants(messageStore, router, chats, result.acked);
    const snapshot = await view.refresh();
    expect(snapshot.live.has(victim)).toBe(false);
    for (const { chatId } of victimChats)
      expect(["ingest-a", "ingest-c"]).toContain(snapshot.ownerIdOf(chatId));
    // The longest send that was in flight across the kill: the failover as a client sees it.
    const worst = Math.max(...result.acked.map((a) => a.latencyMs));
    console.log(
      `kill -9 under load: ${result.acked.length} acks, ${victimChats.length} chats failed over, longest send ` +
        `${worst} ms (TTL ${NODE_TTL_MS} ms + ring refresh 200 ms), ${Date.now() - killedAt} ms until the load finished`,
    );
    expect(worst).toBeLessThan(NODE_TTL_MS + 15_000);
  }, 120_000);
});
