import { randomBytes } from "node:crypto";
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
import type { Logger } from "./logger.js";
import { NodeHeartbeat } from "./node-heartbeat.js";
import { ActivationRecovery } from "./placement/activation-recovery.js";
import { ChatOwnership } from "./placement/ownership.js";
import { type Placement, startPlacement } from "./placement/placement.js";
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
  readonly ingest: IngestService | undefined;
  /** This process's ring view, operator API and router to chat owners. */
  readonly placement: Placement;
  /** The node id this process's ingest role has in the ring. */
  readonly ingestNodeId: string | undefined;
  /** The internal gRPC server's port (ingest role). */
  readonly grpcPort: number | undefined;
  readonly address: AddressInfo;
  /** `http://host:port` as a client on this machine reaches it. */
  readonly baseUrl: string;
  /** Graceful stop: leave the registry, drain HTTP within `graceMs`, close adapters. */
  stop(graceMs?: number): Promise<void>;
}

export const EMBEDDED_INGEST_NODE_ID = "embedded-ingest";

export async function startPlatform(config: Config, logger: Logger, clock: Clock): Promise<RunningPlatform> {
  const startedAt = clock.now();
  const adapters = await openAdapters(config, logger, clock);
  const cleanup: Array<() => Promise<void> | void> = [() => adapters.close()];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    return await assemble(config, logger, clock, adapters, startedAt, cleanup);
  } catch (error) {
    await unwind();
    throw error;
  }
}

async function assemble(
  config: Config,
  logger: Logger,
  clock: Clock,
  adapters: PlatformAdapters,
  startedAt: number,
  cleanup: Array<() => Promise<void> | void>,
): Promise<RunningPlatform> {
  const placement = await startPlacement(config, adapters, clock, logger);
  cleanup.push(() => placement.stop());
  const hostsIngest = config.role === "all" || config.role === "ingest";
  // The embedded process is the only ingest node: it owns every chat and needs no ownership check. Its ring
  // member keeps one name across restarts (the default NODE_ID holds the pid), so the ring does not collect
  // a dead member per restart.
  const ingestNodeId = config.role === "all" ? EMBEDDED_INGEST_NODE_ID : config.nodeId;
  let ownership: ChatOwnership | undefined;
  let heartbeat: NodeHeartbeat | undefined;
  const holder = { nodeId: ingestNodeId, incarnation: `${startedAt}-${randomBytes(4).toString("hex")}` };
  const ingest = hostsIngest
    ? new IngestService({
        messageStore: adapters.messageStore,
        chatStore: adapters.chatStore,
        eventLog: adapters.eventLog,
        clock,
        ids: new IdFactory(clock),
        logger,
        producerId: config.nodeId,
        activations: { store: adapters.activations, ...holder },
        ...(config.role === "ingest" ? { ownership: { check: (chatId) => ownership?.check(chatId) } } : {}),
      })
    : undefined;
  if (ingest !== undefined) {
    ownership = new ChatOwnership(ingestNodeId, placement.view, ingest.host, logger, () => {
      void heartbeat?.beatNow();
    });
    cleanup.push(() => ingest.shutdown());
  }
  let grpc: RunningGrpcServer | undefined;
  if (config.role === "ingest" && ingest !== undefined) {
    grpc = await startGrpcServer({
      host: config.host,
      port: config.grpcPort,
      register: (server) => addIngestService(server, ingest, { logger }),
    });
    const server = grpc;
    cleanup.push(() => server.stop(0));
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
  http.addRoute(placement.adminRoute);

  const address = await http.listen(config.port, config.host);
  cleanup.push(() => http.close(0));
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;

  const roles = config.role === "all" ? NODE_ROLES : [config.role];
  const nodes = (): NodeInfo[] =>
    roles.map((role) => ({
      nodeId:
        role === "ingest" ? ingestNodeId : config.role === "all" ? `${config.nodeId}-${role}` : config.nodeId,
      role,
      // Peers call ingest nodes over gRPC; every other role is reached over HTTP.
      address: `${host}:${role === "ingest" && grpc !== undefined ? grpc.port : address.port}`,
      startedAt,
      ...(role === "ingest" && ownership !== undefined ? { placement: ownership.status() } : {}),
    }));
  heartbeat = new NodeHeartbeat(adapters.nodes, nodes, config.nodeTtlMs, clock, logger);
  await heartbeat.start();
  const beating = heartbeat;
  cleanup.push(() => beating.stop());
  if (hostsIngest && (config.ringAutoJoin || config.role === "all")) {
    await placement.admin.join(ingestNodeId, config.ringWeight);
  }
  // Apply the ring as it is now (this node live, maybe just joined) and announce how far this node got.
  await placement.view.refresh();
  await ownership?.handOff();
  // Then pick up chats whose previous holder (a dead node, this node's previous run) left messages unpublished.
  const recovery =
    ingest === undefined
      ? undefined
      : new ActivationRecovery({
          store: adapters.activations,
          view: placement.view,
          holder,
          owns: (chatId) =>
            config.role === "all" || placement.view.current().ownerIdOf(chatId) === ingestNodeId,
          wake: (chatId) => ingest.wake(chatId),
          clock,
          logger,
          intervalMs: config.activationSweepMs,
        });
  recovery?.start();
  cleanup.push(() => recovery?.stop());

  let stopping: Promise<void> | undefined;
  return {
    config,
    adapters,
    ingest,
    placement,
    ingestNodeId: hostsIngest ? ingestNodeId : undefined,
    grpcPort: grpc?.port,
    address,
    baseUrl,
    stop: (graceMs = config.shutdownGraceMs) => {
      stopping ??= (async () => {
        // Leaving the registry first moves this node's chats to the others while it drains.
        await beating.stop();
        await recovery?.stop();
        placement.stop();
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
