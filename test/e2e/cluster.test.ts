import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "../../deploy/local/cluster.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { devLogin, restAs, WsPeer } from "../support/ws-peer.js";
import {
  concurrentSenders,
  directChat,
  independentChats,
  retriedSend,
  type Stack,
  staleReconnect,
  syncAfterOffline,
} from "./scenarios.js";

/**
 * The local multi-process cluster (`npm run cluster`) end to end, black-box: REST and WebSocket only. Two
 * gateways, two ingest nodes, a fanout worker and chat management, each its own process, on dynalite, Redis
 * and Kafka; users on different gateways chat, and gateways and ingest nodes are killed under them.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");
const phone = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

describe.skipIf(!dynamodb || !redis || !kafka)("the local cluster", () => {
  let cluster: LocalCluster;
  let dataDir: string;
  const gatewayUrl = (nodeId: string) =>
    `http://127.0.0.1:${cluster.nodes.find((node) => node.nodeId === nodeId)?.httpPort ?? 0}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "cluster-e2e-"));
    cluster = await startLocalCluster({
      shape: { gateways: 2, ingest: 2, fanout: 1, chatmgmt: 1 },
      engines: { DYNAMODB_ENDPOINT: dynamodb ?? "", REDIS_URL: redis ?? "", KAFKA_BROKERS: kafka ?? "" },
      dataDir,
      entryPort: 0,
      tablePrefix: uniqueName("cluster_"),
      env: {
        NODE_TTL_MS: "1500",
        RING_REFRESH_MS: "200",
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: "2000",
        // Every test user logs in from 127.0.0.1 (the entry proxy): lift the per-IP OTP limit.
        OTP_REQUESTS_PER_IP: "100000",
        OTP_VERIFIES_PER_IP: "100000",
        // Other suites' clusters share the broker and its topics: a consumer group of its own.
        FANOUT_GROUP: uniqueName("fanout-e2e-"),
      },
      startTimeoutMs: 90_000,
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it("comes up healthy behind one entry URL", async () => {
    const status = await cluster.status();
    expect(status.map((node) => [node.role, node.health])).toEqual(
      expect.arrayContaining([
        ["chatmgmt", "ok"],
        ["ingest", "ok"],
        ["fanout", "ok"],
        ["gateway", "ok"],
      ]),
    );
    expect(status.every((node) => node.health === "ok")).toBe(true);
    expect((await fetch(`${cluster.entryUrl}/health`)).status).toBe(200);
  });

  describe("the end-to-end scenarios (L3)", () => {
    const stack = (): Stack => ({ entryUrl: cluster.entryUrl, kafkaBrokers: kafka ?? "" });
    it(
      "1. a direct chat: both sides see [1, 2]; REST history and both events agree",
      () => directChat(stack()),
      60_000,
    );
    it(
      "2. sync after being offline returns [6, 7, 8] without more, and the ack of 8 is recorded",
      () => syncAfterOffline(stack()),
      60_000,
    );
    it(
      "3. a send retried (also after disconnecting before its ack) keeps one sequence, one row, one event",
      () => retriedSend(stack()),
      60_000,
    );
    it(
      "4. three concurrent senders: every member sees the same order 1..30",
      () => concurrentSenders(stack()),
      90_000,
    );
    it("5. two chats each start at sequence 1", () => independentChats(stack()), 60_000);
    it(
      "a stale client reconnecting syncs everything it missed, paged and in order",
      () => staleReconnect(stack()),
      60_000,
    );
  });

  it("two users on different gateways chat, and a gateway's death is healed by reconnect and sync", async () => {
    const alice = await devLogin(cluster.entryUrl, phone(), "alice-laptop");
    const bob = await devLogin(cluster.entryUrl, phone(), "bob-phone");
    const chat = await restAs<{ chat_id: string }>(
      cluster.entryUrl,
      alice.accessToken,
      "POST",
      "/api/v1/chats",
      {
        type: "direct",
        member_ids: [bob.userId],
      },
    );
    const a = await WsPeer.connect(gatewayUrl("gateway-1"), alice.accessToken, "alice-laptop");
    const b = await WsPeer.connect(gatewayUrl("gateway-2"), bob.accessToken, "bob-phone");
    const ack = await a.sendMessage(chat.chat_id, "hello across gateways");
    expect(ack.sequence).toBe(1);
    const pushed = await b.next(
      (frame) => frame.type === "message" && frame.payload.chat_id === chat.chat_id,
    );
    expect(pushed.payload).toMatchObject({
      chat_id: chat.chat_id,
      sequence: 1,
      message_id: ack.message_id,
      sender_id: alice.userId,
      content: "hello across gateways",
    });

    await cluster.kill("gateway-2");
    await waitFor(() => b.closed !== undefined, {
      timeoutMs: 30_000,
      what: "bob's socket to drop with its gateway",
    });
    for (let i = 2; i <= 4; i++)
      expect((await a.sendMessage(chat.chat_id, `while bob is away ${i}`)).sequence).toBe(i);
    // Bob's client reconnects through the entry URL (the proxy skips the dead gateway) and syncs.
    await waitFor(
      async () =>
        (await cluster.status()).find((node) => node.nodeId === "gateway-2")?.health !== "ok"
          ? true
          : undefined,
      { what: "gateway-2 to be seen down" },
    );
    const back = await WsPeer.connect(cluster.entryUrl, bob.accessToken, "bob-phone");
    const synced = await back.syncAll(chat.chat_id);
    expect(synced.map((m) => m.sequence)).toEqual([1, 2, 3, 4]);
    expect(synced.map((m) => m.content)).toEqual([
      "hello across gateways",
      "while bob is away 2",
      "while bob is away 3",
      "while bob is away 4",
    ]);
    a.close();
    back.close();
    await cluster.restart("gateway-2");
  }, 120_000);

  it("a kill -9 of the chat's ingest node delays a send but loses nothing", async () => {
    const alice = await devLogin(cluster.entryUrl, phone(), "alice-2");
    const bob = await devLogin(cluster.entryUrl, phone(), "bob-2");
    const chat = await restAs<{ chat_id: string }>(
      cluster.entryUrl,
      alice.accessToken,
      "POST",
      "/api/v1/chats",
      {
        type: "group",
        name: "failover",
        member_ids: [bob.userId],
      },
    );
    const a = await WsPeer.connect(gatewayUrl("gateway-1"), alice.accessToken, "alice-2");
    const b = await WsPeer.connect(gatewayUrl("gateway-1"), bob.accessToken, "bob-2");
    await a.sendMessage(chat.chat_id, "before");
    // Kill the node that owns this chat, as the ring says.
    const owner = (await (
      await fetch(`${cluster.adminUrl}/admin/ring/owner?chat_id=${chat.chat_id}`, {
        headers: { authorization: "Bearer dev-admin-token" },
      })
    ).json()) as { data: { owner: string } };
    const busy = owner.data.owner;
    expect(["ingest-1", "ingest-2"]).toContain(busy);
    await cluster.kill(busy);
    const started = Date.now();
    const after = await a.sendMessage(chat.chat_id, "after the owner died");
    const failoverMs = Date.now() - started;
    expect(after.sequence).toBe(2);
    await waitFor(() => b.pushed(chat.chat_id).length === 2, { timeoutMs: 20_000, what: "both pushes" });
    expect((await b.syncAll(chat.chat_id)).map((m) => m.content)).toEqual(["before", "after the owner died"]);
    console.log(`send across a kill -9 of ${busy}: acknowledged after ${failoverMs} ms (NODE_TTL_MS 1500)`);
    a.close();
    b.close();
    await cluster.restart(busy);
  }, 120_000);
});
