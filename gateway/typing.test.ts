import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnectionRegistry } from "../runtime/adapters/redis/connection-registry.js";
import { RedisNodeRegistry } from "../runtime/adapters/redis/node-registry.js";
import type { ManualClock } from "../runtime/clock.js";
import { AppError } from "../runtime/errors.js";
import type { GatewayApi } from "../runtime/gateway-api.js";
import { GatewayDirectory } from "../runtime/gateway-directory.js";
import { GatewayGrpcClient } from "../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../runtime/grpc/grpc-server.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { createLogger } from "../runtime/logger.js";
import { NO_GATEWAY_METRICS, type TypingCause, type TypingDropReason } from "../runtime/metrics/recorders.js";
import { engineEndpoint, uniqueName } from "../test/support/engines.js";
import {
  connected,
  deleteKeys,
  type TestClient,
  type TestKeys,
  testKeys,
} from "../test/support/gateway-harness.js";
import { type IngestFixture, ingestFixture } from "../test/support/ingest-fixture.js";
import { waitFor } from "../test/support/wait-for.js";
import { createGateway, type Gateway } from "./gateway.js";

const available = engineEndpoint("dynamodb") !== undefined && engineEndpoint("redis") !== undefined;
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

interface Node {
  readonly id: string;
  readonly gateway: Gateway;
  readonly url: string;
  readonly forwarded: TypingCause[];
  readonly dropped: TypingDropReason[];
  readonly grpc: RunningGrpcServer;
  readonly directory: GatewayDirectory;
  close(): Promise<void>;
}

/**
 * Typing indicators end to end on two gateways in one process, each with its own gRPC server, sharing the
 * routing entries and node registry in Redis and the chats in dynalite: a typing user on one gateway, the
 * recipients on both (the other one reached over `GatewayService.PushEphemeral`, this one in-process).
 */
describe.skipIf(!available)("typing indicators across gateways (protocol §5, §11)", () => {
  let ingest: IngestFixture;
  let clock: ManualClock;
  let redis: Redis;
  let keys: TestKeys;
  let prefix: string;
  let a: Node;
  let b: Node;
  const clients: TestClient[] = [];

  const startNode = async (id: string): Promise<Node> => {
    const options = { redis, keyPrefix: prefix };
    const registry = new RedisConnectionRegistry(options);
    const nodes = new RedisNodeRegistry(options);
    let gateway: Gateway | undefined;
    const local: GatewayApi = {
      deliver: (deliveries, call) => (gateway as Gateway).api.deliver(deliveries, call),
      closeConnections: (request) => (gateway as Gateway).api.closeConnections(request),
      pushEphemeral: (pushes) => (gateway as Gateway).api.pushEphemeral(pushes),
    };
    const directory = new GatewayDirectory({
      nodes,
      connections: registry,
      logger,
      clock,
      local: { nodeId: id, api: local },
      connect: (address) => new GatewayGrpcClient({ address }),
    });
    const forwarded: TypingCause[] = [];
    const dropped: TypingDropReason[] = [];
    gateway = createGateway({
      gatewayId: id,
      logger,
      clock,
      ids: ingest.ids,
      ingest: ingest.runtime(),
      connections: registry,
      keys: keys.source,
      metrics: {
        ...NO_GATEWAY_METRICS,
        typingForwarded: (cause) => forwarded.push(cause),
        typingDropped: (reason) => dropped.push(reason),
      },
      typing: { chatStore: ingest.chatStore, router: directory },
    });
    const api = gateway.api;
    const grpc = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (server) => addGatewayService(server, api),
    });
    await nodes.heartbeat(
      { nodeId: id, role: "gateway", address: `127.0.0.1:${grpc.port}`, startedAt: clock.now() },
      120_000,
    );
    const server = createServer((_, response) => response.writeHead(404).end());
    gateway.attach(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const running = gateway;
    return {
      id,
      gateway: running,
      url: `ws://127.0.0.1:${port}/v1/ws`,
      forwarded,
      dropped,
      grpc,
      directory,
      close: async () => {
        const drained = running.drain(1_000);
        clock.advance(1_000);
        await drained;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await grpc.stop(1_000);
        directory.close();
        await Promise.all([registry.close(), nodes.close()]);
      },
    };
  };

  beforeAll(async () => {
    ingest = await ingestFixture({ dynamodb: engineEndpoint("dynamodb") ?? "" });
    clock = ingest.clock;
    redis = new Redis(engineEndpoint("redis") ?? "");
    keys = await testKeys(clock);
    prefix = `${uniqueName("typing-")}:`;
    a = await startNode(uniqueName("gw-a-"));
    b = await startNode(uniqueName("gw-b-"));
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await b?.close();
    await a?.close();
    if (redis !== undefined) await deleteKeys(redis, prefix);
    redis?.disconnect();
    await ingest?.cleanup();
  }, 60_000);

  const open = async (userId: UserId, node: Node): Promise<TestClient> => {
    const token = await keys.token(userId, clock.now());
    const { client } = await connected(node.url, { token, deviceId: randomUUID() });
    clients.push(client);
    return client;
  };

  const typing = (client: TestClient, type: "typing_start" | "typing_stop", chatId: string) =>
    client.send({ type, payload: { chat_id: chatId } });

  const indicators = (client: TestClient, chatId: string) =>
    client
      .ofType("typing_indicator")
      .filter((frame) => frame.payload.chat_id === chatId)
      .map((frame) => frame.payload.is_typing);

  /** The client's answers to frames sent before now have all arrived (answers keep the order of frames). */
  const fence = async (client: TestClient) => {
    const requestId = randomUUID();
    client.send({ type: "heartbeat", request_id: requestId, payload: {} });
    await client.reply(requestId);
  };

  const chatOf = async (count: number) => {
    const users = Array.from({ length: count }, () => ingest.ids.user());
    return { users, chat: await ingest.chatWith(users) };
  };

  it("a member's typing_start reaches every device of the other members on both gateways, and no device of the typing user", async () => {
    const { users, chat } = await chatOf(3);
    const [alice, bob, carol] = users as [UserId, UserId, UserId];
    const typist = await open(alice, a);
    const aliceElsewhere = await open(alice, b);
    const bobPhone = await open(bob, b);
    const bobLaptop = await open(bob, b);
    const carolHere = await open(carol, a);

    typing(typist, "typing_start", chat);
    for (const recipient of [bobPhone, bobLaptop, carolHere]) {
      const frame = await recipient.next((f) => f.type === "typing_indicator");
      expect(frame.payload).toEqual({ chat_id: chat, user_id: alice, is_typing: true });
      expect(frame.request_id).toBeUndefined();
      expect(typeof frame.timestamp).toBe("string");
    }
    typing(typist, "typing_stop", chat);
    for (const recipient of [bobPhone, bobLaptop, carolHere])
      await waitFor(() => indicators(recipient, chat).length === 2);
    expect(indicators(bobPhone, chat)).toEqual([true, false]);
    // Indicators of one typing user leave in order, each once every gateway took the one before: the
    // second reached bob, so the first was never meant for alice's other device.
    expect(indicators(aliceElsewhere, chat)).toEqual([]);
    expect(indicators(typist, chat)).toEqual([]);
    expect(a.forwarded.slice(-2)).toEqual(["start", "stop"]);
  });

  it("an indicator without a stop expires after typingExpiryMs (10 s): the recipients get is_typing false", async () => {
    const { users, chat } = await chatOf(2);
    const [alice, bob] = users as [UserId, UserId];
    const typist = await open(alice, a);
    const recipient = await open(bob, b);
    typing(typist, "typing_start", chat);
    await waitFor(() => indicators(recipient, chat).length === 1);
    clock.advance(9_999);
    await fence(typist);
    expect(indicators(recipient, chat)).toEqual([true]);
    clock.advance(1);
    await waitFor(() => indicators(recipient, chat).length === 2);
    expect(indicators(recipient, chat)).toEqual([true, false]);
    expect(a.forwarded.at(-1)).toBe("expired");
    // Expired: a late stop has nothing to end.
    typing(typist, "typing_stop", chat);
    await waitFor(() => a.dropped.at(-1) === "not_typing");
  });

  it("a start restarts the expiry; the typing connection closing ends the indicator at once", async () => {
    const { users, chat } = await chatOf(2);
    const [alice, bob] = users as [UserId, UserId];
    const typist = await open(alice, a);
    const recipient = await open(bob, b);
    typing(typist, "typing_start", chat);
    await waitFor(() => indicators(recipient, chat).length === 1);
    clock.advance(6_000);
    typing(typist, "typing_start", chat);
    await waitFor(() => indicators(recipient, chat).length === 2);
    clock.advance(6_000);
    await fence(typist);
    expect(indicators(recipient, chat)).toEqual([true, true]);
    typist.close();
    await waitFor(() => indicators(recipient, chat).length === 3);
    expect(indicators(recipient, chat)).toEqual([true, true, false]);
    expect(a.forwarded.at(-1)).toBe("closed");
  });

  it("typing_start over 1/s per chat is dropped silently and counted; another chat has its own limit", async () => {
    const { users, chat } = await chatOf(2);
    const [alice, bob] = users as [UserId, UserId];
    const other = await ingest.chatWith([alice, bob]);
    const typist = await open(alice, a);
    const recipient = await open(bob, a);
    const droppedBefore = a.dropped.filter((reason) => reason === "rate_limited").length;
    typing(typist, "typing_start", chat);
    typing(typist, "typing_start", chat);
    typing(typist, "typing_start", other);
    typing(typist, "typing_stop", chat);
    typing(typist, "typing_stop", other);
    await waitFor(
      () => indicators(recipient, chat).length === 2 && indicators(recipient, other).length === 2,
    );
    expect(indicators(recipient, chat)).toEqual([true, false]);
    expect(a.dropped.filter((reason) => reason === "rate_limited").length - droppedBefore).toBe(1);
    await fence(typist);
    expect(typist.ofType("error")).toEqual([]);
    clock.advance(1_000);
    typing(typist, "typing_start", chat);
    await waitFor(() => indicators(recipient, chat).length === 3);
  });

  it("a non-member's typing_start is answered NOT_A_MEMBER (NOT_FOUND for no chat) and reaches nobody", async () => {
    const { users, chat } = await chatOf(2);
    const [alice, bob] = users as [UserId, UserId];
    const mallory = ingest.ids.user();
    const intruder = await open(mallory, a);
    const member = await open(bob, b);
    typing(intruder, "typing_start", chat);
    const refused = await intruder.next((frame) => frame.type === "error");
    expect(refused.request_id).toBeUndefined();
    expect(refused.payload).toMatchObject({ code: "NOT_A_MEMBER", details: { chat_id: chat } });
    typing(intruder, "typing_start", ingest.ids.chat());
    const missing = await intruder.next((frame) => frame.type === "error" && frame !== refused);
    expect(missing.payload.code).toBe("NOT_FOUND");
    // Nothing was started for the refused one: its stop is dropped, nothing expires later.
    typing(intruder, "typing_stop", chat);
    clock.advance(10_000);
    const typist = await open(alice, a);
    typing(typist, "typing_start", chat);
    await waitFor(() => indicators(member, chat).length === 1);
    expect(member.ofType("typing_indicator").map((frame) => frame.payload.user_id)).toEqual([alice]);
    expect(a.dropped).toContain("not_a_member");
  });

  it("a user just added is refused for at most the recheck period, without an event", async () => {
    const { users, chat } = await chatOf(2);
    const [, bob] = users as [UserId, UserId];
    const dave = ingest.ids.user();
    const newcomer = await open(dave, a);
    const member = await open(bob, b);
    typing(newcomer, "typing_start", chat);
    await newcomer.next((frame) => frame.type === "error");
    const now = clock.now();
    await ingest.chatStore.addMembership({
      chatId: chat,
      userId: dave,
      role: "member",
      joinedAt: now,
      updatedAt: now,
    });
    clock.advance(2_000);
    typing(newcomer, "typing_start", chat);
    const frame = await member.next((f) => f.type === "typing_indicator");
    expect(frame.payload).toEqual({ chat_id: chat, user_id: dave, is_typing: true });
  });

  it("a bad chat_id is INVALID_MESSAGE", async () => {
    const client = await open(ingest.ids.user(), a);
    client.send({ type: "typing_start", payload: { chat_id: "nope" } });
    const error = await client.next((frame) => frame.type === "error");
    expect(error.payload).toMatchObject({ code: "INVALID_MESSAGE", details: { field: "chat_id" } });
  });

  it("PushEphemeral over gRPC refuses a frame it could not show a client (INVALID_MESSAGE), and counts deliveries", async () => {
    const client = new GatewayGrpcClient({ address: `127.0.0.1:${b.grpc.port}` });
    try {
      const bad = client.pushEphemeral([
        {
          userIds: [ingest.ids.user()],
          frame: {
            type: "typing_indicator",
            payload: { chat_id: "chat_x" as ChatId, user_id: ingest.ids.user(), is_typing: true },
          },
        },
      ]);
      await expect(bad).rejects.toSatisfy(
        (error: unknown) => error instanceof AppError && error.code === "INVALID_MESSAGE",
      );
      const user = ingest.ids.user();
      const absent = ingest.ids.user();
      const socket = await open(user, b);
      const result = await client.pushEphemeral([
        {
          userIds: [user, absent],
          frame: {
            type: "typing_indicator",
            payload: { chat_id: ingest.ids.chat(), user_id: absent, is_typing: false },
          },
        },
      ]);
      expect(result).toEqual({ delivered: 1, noConnection: 1, dropped: 0 });
      await socket.next((frame) => frame.type === "typing_indicator");
    } finally {
      client.close();
    }
  });
});
