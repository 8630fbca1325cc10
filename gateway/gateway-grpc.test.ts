import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayGrpcClient } from "../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../runtime/grpc/grpc-server.js";
import type { UserId } from "../runtime/ids.js";
import { engineEndpoint } from "../test/support/engines.js";
import {
  connected,
  newDevice,
  Redis,
  type RunningGateway,
  startGateway,
  type TestKeys,
  testKeys,
} from "../test/support/gateway-harness.js";
import { type IngestFixture, ingestFixture } from "../test/support/ingest-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");

describe.skipIf(!dynamodb || !redisUrl)("GatewayService over gRPC", () => {
  let fixture: IngestFixture;
  let redis: Redis;
  let keys: TestKeys;
  let running: RunningGateway;
  let grpcServer: RunningGrpcServer;
  let client: GatewayGrpcClient;

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "" });
    redis = new Redis(redisUrl ?? "");
    keys = await testKeys(fixture.clock);
    running = await startGateway({
      clock: fixture.clock,
      ids: fixture.ids,
      ingest: fixture.runtime(),
      keys: keys.source,
      redis,
    });
    grpcServer = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (server) => addGatewayService(server, running.gateway.api),
    });
    client = new GatewayGrpcClient({ address: `127.0.0.1:${grpcServer.port}` });
  });

  afterAll(async () => {
    client?.close();
    await grpcServer?.stop(1_000);
    await running?.close();
    redis?.disconnect();
    await fixture?.cleanup();
  });

  const open = async (userId: UserId, claims = {}) =>
    (
      await connected(running.url, {
        token: await keys.token(userId, fixture.clock.now(), claims),
        deviceId: newDevice(),
      })
    ).client;

  it("Deliver pushes a stored message to the recipient's connections and counts the rest", async () => {
    const alice = fixture.ids.user();
    const bob = fixture.ids.user();
    const chat = await fixture.chatWith([alice, bob]);
    const ingest = fixture.runtime();
    const sent = await ingest.persist({
      chatId: chat,
      senderId: alice,
      clientMessageId: randomUUID(),
      content: "über gRPC",
      contentType: "text/plain",
    });
    const [message] = (await ingest.sync({ chatId: chat, userId: bob, afterSequence: sent.sequence - 1 }))
      .messages;
    if (message === undefined) throw new Error("not stored");
    const ws = await open(bob);
    const result = await client.deliver([
      { userId: bob, message },
      { userId: fixture.ids.user(), message },
    ]);
    expect(result).toEqual({ delivered: 1, noConnection: 1, dropped: 0 });
    const push = await ws.next((frame) => frame.type === "message");
    expect(push.payload).toMatchObject({ chat_id: chat, sequence: sent.sequence, content: "über gRPC" });
    ws.close();
  });

  it("CloseConnections closes by user and session; an unknown reason is INVALID_MESSAGE", async () => {
    const user = fixture.ids.user();
    const ws = await open(user, { sid: "sess_grpc" });
    expect(
      await client.closeConnections({ userId: user, sessionId: "sess_other", reason: "token_expired" }),
    ).toBe(0);
    expect(
      await client.closeConnections({ userId: user, sessionId: "sess_grpc", reason: "token_expired" }),
    ).toBe(1);
    expect((await ws.next((frame) => frame.type === "connection_closing")).payload.reason).toBe(
      "token_expired",
    );
    await expect(client.closeConnections({ userId: user, reason: "nonsense" })).rejects.toMatchObject({
      code: "INVALID_MESSAGE",
    });
  });

  it("a gateway that cannot be reached is SERVICE_UNAVAILABLE", async () => {
    const nowhere = new GatewayGrpcClient({ address: "127.0.0.1:1", deadlineMs: 1_000 });
    await expect(nowhere.deliver([])).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    nowhere.close();
  });
});
