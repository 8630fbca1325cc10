import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayGrpcClient } from "../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../runtime/grpc/grpc-server.js";
import { gatewayEnginesAvailable, gatewayFixture } from "../test/support/gateway-fixture.js";

describe.skipIf(!gatewayEnginesAvailable())("GatewayService over gRPC", () => {
  const gw = gatewayFixture();
  let grpcServer: RunningGrpcServer;
  let client: GatewayGrpcClient;

  beforeAll(async () => {
    grpcServer = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (server) => addGatewayService(server, gw.running.gateway.api),
    });
    client = new GatewayGrpcClient({ address: `127.0.0.1:${grpcServer.port}` });
  });

  afterAll(async () => {
    client?.close();
    await grpcServer?.stop(1_000);
  });

  it("Deliver pushes a stored message to the recipient's connections and counts the rest", async () => {
    const alice = gw.ids.user();
    const bob = gw.ids.user();
    const chat = await gw.ingest.chatWith([alice, bob]);
    const ingest = gw.ingest.runtime();
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
    const ws = await gw.open(bob);
    const result = await client.deliver([
      { userId: bob, message },
      { userId: gw.ids.user(), message },
    ]);
    expect(result).toEqual({ delivered: 1, noConnection: 1, dropped: 0 });
    const push = await ws.next((frame) => frame.type === "message");
    expect(push.payload).toMatchObject({ chat_id: chat, sequence: sent.sequence, content: "über gRPC" });
    ws.close();
  });

  it("CloseConnections closes by user and session; an unknown reason is INVALID_MESSAGE", async () => {
    const user = gw.ids.user();
    const ws = await gw.open(user, { claims: { sid: "sess_grpc" } });
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
