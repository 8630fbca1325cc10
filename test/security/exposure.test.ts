import * as grpc from "@grpc/grpc-js";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { RunningPlatform } from "../../app/platform.js";
import { messagingProto } from "../../proto/load.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { isAppError } from "../../runtime/errors.js";
import { GatewayGrpcClient } from "../../runtime/grpc/gateway-client.js";
import { IngestGrpcClient } from "../../runtime/grpc/ingest-client.js";
import { IdFactory } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { inProcessPlatforms } from "./platform-process.js";

/**
 * What a process exposes to whoever reaches its public port (the load balancer's clients) and what only the
 * platform's own pods reach: the operator API, the inspector, metrics and the dependency details of
 * `/health` live on the internal listener; internal gRPC accepts only calls that carry the deployment's token.
 */
const clock = new SystemClock();

/** The answer of a WebSocket upgrade: 101 when it opened, else the HTTP status it was refused with. */
const upgradeStatus = (url: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on("open", () => {
      resolve(101);
      socket.close();
    });
    socket.on("error", reject);
  });

const OPERATOR_PATHS = [
  "/admin/ring",
  "/admin/ring/owner?chat_id=chat_01J00000000000000000000000",
  "/inspector",
  "/inspector/",
  "/inspector/api/snapshot",
  "/inspector/machines/connection-lifecycle.svg",
  "/inspector/assets/inspector.js",
  "/metrics",
];

describe("the embedded platform's two listeners", () => {
  const platforms = inProcessPlatforms({ prefix: "exposure", clock });
  let platform: RunningPlatform;

  beforeAll(async () => {
    platform = await platforms.start({});
  });

  it("answers 404 on the public port to the operator API, the inspector and metrics, even with the admin token", async () => {
    for (const path of OPERATOR_PATHS) {
      const response = await fetch(`${platform.baseUrl}${path}`, {
        headers: { authorization: "Bearer dev-admin-token" },
      });
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code, path).toBe("NOT_FOUND");
    }
    const change = await fetch(`${platform.baseUrl}/admin/ring/changes`, {
      method: "POST",
      headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ kind: "drain", node_id: "embedded-ingest" }),
    });
    expect(change.status).toBe(404);
  });

  it("refuses the inspector's WebSocket on the public port, and still serves the client WebSocket path", async () => {
    const publicWs = platform.baseUrl.replace(/^http/, "ws");
    expect(await upgradeStatus(`${publicWs}/inspector/ws`)).toBe(404);
    expect(await upgradeStatus(`${publicWs}/elsewhere`)).toBe(404);
    // The gateway's own refusal (no token): the path is served, the upgrade is not a 404.
    expect(await upgradeStatus(`${publicWs}/v1/ws`)).not.toBe(404);
  });

  it("tells the public only the verdict of /health: {status, timestamp}, no adapters, node or version", async () => {
    const response = await fetch(`${platform.baseUrl}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["status", "timestamp"]);
    expect(body.status).toBe("healthy");
  });

  it("serves the operator API, the inspector, metrics and the detailed health on the internal port", async () => {
    const internal = platform.internalUrl;
    expect(platform.internalAddress.port).not.toBe(platform.address.port);
    const ring = await fetch(`${internal}/admin/ring`, {
      headers: { authorization: "Bearer dev-admin-token" },
    });
    expect(ring.status).toBe(200);
    expect((await fetch(`${internal}/inspector`)).status).toBe(200);
    expect((await fetch(`${internal}/inspector/api/snapshot`)).status).toBe(200);
    const metrics = await fetch(`${internal}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE gateway_connections_active gauge");
    const health = (await (await fetch(`${internal}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "healthy", role: "all", adapters: expect.any(Object) });
    expect(await upgradeStatus(`${internal.replace(/^http/, "ws")}/inspector/ws`)).toBe(101);
  });

  it("binds the internal listener to loopback by default and serves no public API there", async () => {
    expect(platform.internalAddress.address).toBe("127.0.0.1");
    expect((await fetch(`${platform.internalUrl}/api/v1/`)).status).toBe(404);
    expect(await upgradeStatus(`${platform.internalUrl.replace(/^http/, "ws")}/v1/ws`)).toBe(404);
  });
});

describe("production mode", () => {
  it("refuses a cluster role without INTERNAL_GRPC_TOKEN, and the embedded process, which has no internal gRPC, needs none", async () => {
    const { productionProblems } = await import("../../app/production-requirements.js");
    for (const role of ["gateway", "ingest", "fanout", "chatmgmt"]) {
      const config = loadConfig({ env: { ROLE: role, DEV_MODE: "false", NODE_ID: "n-1" } });
      expect(productionProblems(config).join("\n"), role).toMatch(/^INTERNAL_GRPC_TOKEN: is not set/m);
      const withToken = loadConfig({
        env: {
          ROLE: role,
          DEV_MODE: "false",
          NODE_ID: "n-1",
          INTERNAL_GRPC_TOKEN: "0123456789abcdef".repeat(2),
        },
      });
      expect(productionProblems(withToken).join("\n"), role).not.toContain("INTERNAL_GRPC_TOKEN");
    }
    const embedded = loadConfig({ env: { ROLE: "all", DEV_MODE: "false", NODE_ID: "n-1" } });
    expect(productionProblems(embedded).join("\n")).not.toContain("INTERNAL_GRPC_TOKEN");
  });
});

const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");

describe.skipIf(!dynamodb || !redis)("internal gRPC of cluster roles", () => {
  const TOKEN = "exposure-test-internal-token-0123456789";
  const logLines: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void logLines.push(line) }) as Logger;
  const platforms = inProcessPlatforms({ prefix: "expo", logger, clock });
  const prefix = uniqueName("expo_");
  const start = (env: Record<string, string>) =>
    platforms.start({
      GRPC_PORT: "0",
      CHAT_GRPC_PORT: "0",
      HOST: "127.0.0.1",
      DEV_MODE: "true",
      TABLE_PREFIX: prefix,
      DYNAMODB_ENDPOINT: dynamodb ?? "",
      REDIS_URL: redis ?? "",
      INTERNAL_GRPC_TOKEN: TOKEN,
      ...env,
    });

  /** The gRPC status a failed call ended with, from the AppError our clients turn it into. */
  const statusOf = (error: unknown): number | undefined =>
    isAppError(error) ? (error.cause as grpc.ServiceError | undefined)?.code : undefined;

  it("IngestService refuses a call without the token or with a wrong one (UNAUTHENTICATED) and serves it with the token", async () => {
    const ingest = await start({ ROLE: "ingest" });
    const ids = new IdFactory(clock);
    const alice = ids.user();
    const chatId = await createActiveChat(ingest.adapters.chatStore, { ids, clock }, [alice], "exposure");
    const send = (client: IngestGrpcClient, clientMessageId: string) =>
      client.persist({ chatId, senderId: alice, clientMessageId, content: "hi", contentType: "text/plain" });
    const address = `127.0.0.1:${ingest.grpcPort}`;
    const anonymous = new IngestGrpcClient({ address });
    const impostor = new IngestGrpcClient({ address, internalToken: "not-the-deployment-token" });
    const member = new IngestGrpcClient({ address, internalToken: TOKEN });
    try {
      const refusedAnonymous = await send(anonymous, "c-1").catch((error: unknown) => error);
      expect(statusOf(refusedAnonymous)).toBe(grpc.status.UNAUTHENTICATED);
      // To its caller the refusal is a fault of the deployment, never the client's bad credentials.
      expect(refusedAnonymous).toMatchObject({ code: "INTERNAL_ERROR", public: false });
      expect(statusOf(await send(impostor, "c-2").catch((error: unknown) => error))).toBe(
        grpc.status.UNAUTHENTICATED,
      );
      // Nothing was stored by the refused calls: the first accepted send is sequence 1.
      expect((await send(member, "c-3")).sequence).toBe(1);
    } finally {
      for (const client of [anonymous, impostor, member]) client.close();
    }
  });

  it("logs a refusal with the method and why, never with the token that was sent", async () => {
    const refusals = logLines.filter((line) => line.includes("internal gRPC call refused"));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(refusals.join("\n")).toContain("/messaging.v1.IngestService/PersistMessage");
    expect(refusals.some((line) => line.includes('"reason":"missing"'))).toBe(true);
    expect(refusals.some((line) => line.includes('"reason":"wrong"'))).toBe(true);
    expect(logLines.join("\n")).not.toContain("not-the-deployment-token");
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  it("GatewayService refuses a Deliver without the token and serves it with the token", async () => {
    const gateway = await start({
      ROLE: "gateway",
      // Fetched on the first handshake only; none happens here.
      JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
    });
    const address = `127.0.0.1:${gateway.grpcPort}`;
    const anonymous = new GatewayGrpcClient({ address });
    const member = new GatewayGrpcClient({ address, internalToken: TOKEN });
    try {
      expect(statusOf(await anonymous.deliver([]).catch((error: unknown) => error))).toBe(
        grpc.status.UNAUTHENTICATED,
      );
      expect(await member.deliver([])).toEqual({ delivered: 0, noConnection: 0, dropped: 0 });
    } finally {
      anonymous.close();
      member.close();
    }
  });

  it("ChatService refuses a call without the token and serves it with the token", async () => {
    const chatmgmt = await start({ ROLE: "chatmgmt" });
    const { ChatService } = messagingProto().messaging.v1;
    const client = new ChatService(`127.0.0.1:${chatmgmt.chatGrpcPort}`, grpc.credentials.createInsecure());
    const ids = new IdFactory(clock);
    const call = (metadata: grpc.Metadata) =>
      new Promise<{ code: number; member?: boolean }>((resolve) =>
        client.GetMembership(
          { chat_id: ids.chat(), user_id: ids.user() },
          metadata,
          (error: grpc.ServiceError | null, response?: { is_member: boolean }) =>
            resolve(error ? { code: error.code } : { code: grpc.status.OK, member: response?.is_member }),
        ),
      );
    try {
      expect((await call(new grpc.Metadata())).code).toBe(grpc.status.UNAUTHENTICATED);
      const wrong = new grpc.Metadata();
      wrong.set("x-internal-token", "not-the-deployment-token");
      expect((await call(wrong)).code).toBe(grpc.status.UNAUTHENTICATED);
      const right = new grpc.Metadata();
      right.set("x-internal-token", TOKEN);
      expect(await call(right)).toEqual({ code: grpc.status.OK, member: false });
    } finally {
      client.close();
    }
  });
});
