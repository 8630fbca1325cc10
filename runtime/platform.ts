import type { AddressInfo } from "node:net";
import { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import { type RunningGrpcServer, startGrpcServer } from "./grpc/grpc-server.js";
import { addIngestService } from "./grpc/ingest-server.js";
import { healthRoute } from "./health.js";
import { sendJson } from "./http/json.js";
import { createHttpServer, pathOf, type Route } from "./http/server.js";
import { IdFactory } from "./ids.js";
import type { IngestApi } from "./ingest-api.js";
import type { Logger } from "./logger.js";
import { NodeHeartbeat } from "./node-heartbeat.js";
import { openAdapters, type PlatformAdapters } from "./platform-adapters.js";
import { NODE_ROLES, type NodeInfo } from "./ports/routing.js";
import { SERVICE_NAME, SERVICE_VERSION } from "./version.js";

/**
 * One process of the platform: the adapters its configuration names, one HTTP server (health now; REST,
 * WebSocket and the browser client mount on the same server), and its announcement in the node registry.
 */
export interface RunningPlatform {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  /** The durability plane of this process (embedded and ingest roles), called in-process. */
  readonly ingest: IngestApi | undefined;
  /** The internal gRPC server's port (ingest role). */
  readonly grpcPort: number | undefined;
  readonly address: AddressInfo;
  /** `http://host:port` as a client on this machine reaches it. */
  readonly baseUrl: string;
  /** Graceful stop: leave the registry, drain HTTP within `graceMs`, close adapters. */
  stop(graceMs?: number): Promise<void>;
}

export async function startPlatform(config: Config, logger: Logger, clock: Clock): Promise<RunningPlatform> {
  const startedAt = clock.now();
  const adapters = await openAdapters(config, logger, clock);
  const hostsIngest = config.role === "all" || config.role === "ingest";
  const ingest = hostsIngest
    ? new IngestService({
        messageStore: adapters.messageStore,
        chatStore: adapters.chatStore,
        eventLog: adapters.eventLog,
        clock,
        ids: new IdFactory(clock),
        logger,
        producerId: config.nodeId,
      })
    : undefined;
  let grpc: RunningGrpcServer | undefined;
  if (config.role === "ingest" && ingest !== undefined) {
    try {
      grpc = await startGrpcServer({
        host: config.host,
        port: config.grpcPort,
        register: (server) => addIngestService(server, ingest, { logger }),
      });
    } catch (error) {
      await adapters.close();
      throw error;
    }
  }
  const http = createHttpServer(logger);
  const identity = {
    service: SERVICE_NAME,
    version: SERVICE_VERSION,
    role: config.role,
    nodeId: config.nodeId,
    startedAt,
  };
  http.addRoute(healthRoute(identity, adapters.checks, clock));
  http.addRoute(indexRoute(config));

  let address: AddressInfo;
  try {
    address = await http.listen(config.port, config.host);
  } catch (error) {
    await grpc?.stop(0);
    await adapters.close();
    throw error;
  }
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;

  const roles = config.role === "all" ? NODE_ROLES : [config.role];
  const nodes: NodeInfo[] = roles.map((role) => ({
    nodeId: config.role === "all" ? `${config.nodeId}-${role}` : config.nodeId,
    role,
    // Peers call ingest nodes over gRPC; every other role is reached over HTTP.
    address: `${host}:${role === "ingest" && grpc !== undefined ? grpc.port : address.port}`,
    startedAt,
  }));
  const heartbeat = new NodeHeartbeat(adapters.nodes, nodes, config.nodeTtlMs, clock, logger);
  try {
    await heartbeat.start();
  } catch (error) {
    await http.close(0);
    await grpc?.stop(0);
    await adapters.close();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    adapters,
    ingest,
    grpcPort: grpc?.port,
    address,
    baseUrl,
    stop: (graceMs = config.shutdownGraceMs) => {
      stopping ??= (async () => {
        await heartbeat.stop();
        await http.close(graceMs);
        // Sequencers finish their mailboxes and publish their outboxes before the adapters go away.
        await grpc?.stop(graceMs);
        await ingest?.shutdown();
        await adapters.close();
      })();
      return stopping;
    },
  };
}

/** `GET /`: what this process serves, so a person who opens the URL learns where to go. */
function indexRoute(config: Config): Route {
  return (request, response, requestId) => {
    if (pathOf(request) !== "/" || request.method !== "GET") return false;
    sendJson(
      response,
      200,
      {
        service: SERVICE_NAME,
        version: SERVICE_VERSION,
        role: config.role,
        endpoints: { health: "/health" },
      },
      requestId,
    );
    return true;
  };
}
