import type { AddressInfo } from "node:net";
import type { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import { type FanoutWorker, fanoutOptionsFromConfig, startFanoutWorker } from "../actors/fanout/index.js";
import { inspectedDeliveries } from "../actors/fanout/inspected-deliveries.js";
import { type ChatManagement, createChatManagement } from "../chatmgmt/create-chat-management.js";
import {
  createGateway,
  type Gateway,
  gatewayLimitsFromConfig,
  inProcessJwks,
  type JwtKeySource,
  remoteJwks,
  type SessionCheck,
} from "../gateway/index.js";
import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import { AppError } from "../runtime/errors.js";
import type { GatewayApi } from "../runtime/gateway-api.js";
import { GatewayDirectory } from "../runtime/gateway-directory.js";
import { GatewayGrpcClient } from "../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../runtime/grpc/grpc-server.js";
import { addIngestService } from "../runtime/grpc/ingest-server.js";
import { internalGrpcTokenOf, internalServerInterceptors } from "../runtime/grpc/internal-token.js";
import { TrustedProxies } from "../runtime/http/client-address.js";
import { IdFactory, type SessionId } from "../runtime/ids.js";
import type { IngestApi } from "../runtime/ingest-api.js";
import { createInspector, type Inspector } from "../runtime/inspector/inspector.js";
import type { Logger } from "../runtime/logger.js";
import { createPlatformMetrics } from "../runtime/metrics/platform-metrics.js";
import { NodeHeartbeat } from "../runtime/node-heartbeat.js";
import { type Placement, startPlacement } from "../runtime/placement/placement.js";
import { NODE_ROLES, type NodeInfo, type NodeRole } from "../runtime/ports/routing.js";
import type { SessionStore } from "../runtime/ports/session-store.js";
import { type Tracing, tracingFromConfig } from "../runtime/tracing/tracing.js";
import { SERVICE_NAME, SERVICE_VERSION } from "../runtime/version.js";
import { SERVER_MACHINES } from "./machines.js";
import { openAdapters, type PlatformAdapters } from "./platform-adapters.js";
import { reachableHost, startListeners } from "./platform-listeners.js";
import { createIngestRole } from "./roles/ingest-role.js";

/**
 * One process of the platform: the adapters its configuration names, two HTTP listeners and its announcement
 * in the node registry. The public listener (PORT) serves clients: REST, the WebSocket, the browser client and
 * a `/health` that tells only its verdict. The internal listener (INTERNAL_PORT) serves operators and the
 * platform's own pods: the ring's admin API, the inspector, metrics and the detailed health. No route of one
 * is mounted on the other, so no load-balancer rule can expose the internal surface by accident.
 */
export interface RunningPlatform {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  /** The durability plane of this process (embedded and ingest roles), called in-process. */
  readonly ingest: IngestService | undefined;
  /** The connection plane of this process (embedded and gateway roles). */
  readonly gateway: Gateway | undefined;
  /** Chat management of this process (embedded and chatmgmt roles). */
  readonly chatmgmt: ChatManagement | undefined;
  /** The fanout worker of this process (embedded and fanout roles). */
  readonly fanout: FanoutWorker | undefined;
  /** This process's ring view, operator API and router to chat owners. */
  readonly placement: Placement;
  /** `/inspector`: this process's live actors per machine state, and the ring. */
  readonly inspector: Inspector;
  /** The node id this process's ingest role has in the ring. */
  readonly ingestNodeId: string | undefined;
  /** The internal gRPC server's port (ingest and gateway roles). */
  readonly grpcPort: number | undefined;
  /** The ChatService gRPC port (chatmgmt role). */
  readonly chatGrpcPort: number | undefined;
  readonly address: AddressInfo;
  /** `http://host:port` of the public listener as a client on this machine reaches it. */
  readonly baseUrl: string;
  /** The internal listener: `/admin/ring`, `/inspector`, `/metrics`, the detailed `/health`. */
  readonly internalAddress: AddressInfo;
  /** `http://host:port` of the internal listener as an operator on this machine reaches it. */
  readonly internalUrl: string;
  /** Graceful stop: leave the registry, drain HTTP within `graceMs`, close adapters. */
  stop(graceMs?: number): Promise<void>;
}

export const EMBEDDED_INGEST_NODE_ID = "embedded-ingest";

export interface PlatformOptions {
  /**
   * The tracing of this process; default: what the configuration asks for (TRACING_EXPORTER), flushed and
   * stopped with the platform. A given one stays its owner's (tests give each platform its own exporter).
   */
  readonly tracing?: Tracing;
}

export async function startPlatform(
  config: Config,
  logger: Logger,
  clock: Clock,
  options: PlatformOptions = {},
): Promise<RunningPlatform> {
  const startedAt = clock.now();
  const ownTracing = options.tracing === undefined ? tracingFromConfig(config, logger) : undefined;
  const tracing = options.tracing ?? ownTracing;
  // Read before any engine is opened: an unreadable token file fails the start at once.
  const internalToken = internalGrpcTokenOf(config);
  const adapters = await openAdapters(config, logger, clock);
  const cleanup: Array<() => Promise<void> | void> = [() => ownTracing?.shutdown(), () => adapters.close()];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    return await assemble(config, logger, clock, adapters, startedAt, cleanup, internalToken, {
      tracing,
      ownTracing,
    });
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
  internalToken: string | undefined,
  traces: { readonly tracing: Tracing | undefined; readonly ownTracing: Tracing | undefined },
): Promise<RunningPlatform> {
  const tracer = traces.tracing?.tracer;
  const embedded = config.role === "all";
  const hosts = (role: NodeRole) => embedded || config.role === role;
  const ids = new IdFactory(clock);
  const placement = await startPlacement(config, adapters, clock, logger, internalToken);
  cleanup.push(() => placement.stop());
  const metrics = createPlatformMetrics(config, clock, logger);
  cleanup.push(() => metrics.close());
  // Built before the roles, so that each reports its actors to it from the first one.
  const inspector = createInspector({
    node: { nodeId: config.nodeId, role: config.role },
    access: { devMode: config.devMode, adminToken: config.adminToken },
    clock,
    logger,
    placement,
    nodes: adapters.nodes,
    chatIds: adapters.chatIds,
    machines: SERVER_MACHINES,
  });
  cleanup.push(() => inspector.close());
  const host = reachableHost(config.host);

  // Durability plane. The embedded process is the only ingest node: it owns every chat. Its ring member keeps
  // one name across restarts (the default NODE_ID holds the pid), so the ring does not collect dead members.
  const ingestNodeId = embedded ? EMBEDDED_INGEST_NODE_ID : config.nodeId;
  let heartbeat: NodeHeartbeat | undefined;
  const ingest = hosts("ingest")
    ? createIngestRole({
        config,
        adapters,
        placement,
        clock,
        logger,
        nodeId: ingestNodeId,
        startedAt,
        onApplied: () => void heartbeat?.beatNow(),
        ...(tracer === undefined ? {} : { tracer }),
        metrics,
      })
    : undefined;
  if (ingest !== undefined) cleanup.push(() => ingest.stop());
  if (ingest !== undefined) {
    const service = ingest.service;
    inspector.observeLifecycles("sequencer", service.host);
    inspector.poll("write", () => ({
      items: [...service.writeCycles()].map(([key, state]) => ({ key, state })),
      ended: {},
    }));
  }
  // Whoever calls a chat's owner: in-process when this process is the only ingest node, else by the ring.
  const ingestApi: IngestApi = embedded && ingest !== undefined ? ingest.service : placement.router();

  // Connection plane and the directory every caller of gateways goes through.
  const gatewayNodeId = embedded ? `${config.nodeId}-gateway` : config.nodeId;
  let gateway: Gateway | undefined;
  // The gateway of this process is called in-process; it is created below, after chat management (its keys).
  const localGateway: GatewayApi = {
    deliver: (deliveries, call) => requireGateway(gateway).deliver(deliveries, call),
    closeConnections: (request) => requireGateway(gateway).closeConnections(request),
  };
  const directory = new GatewayDirectory({
    nodes: adapters.nodes,
    connections: adapters.connections,
    logger,
    ...(hosts("gateway") ? { local: { nodeId: gatewayNodeId, api: localGateway } } : {}),
    connect: (address) => new GatewayGrpcClient({ address, internalToken }),
  });
  cleanup.push(() => directory.close());

  // Management plane.
  const chatmgmt = hosts("chatmgmt")
    ? await createChatManagement({
        ...adapters.chatManagement,
        config,
        logger: logger.child({ component: "chatmgmt" }),
        clock,
        ids,
        chatStore: adapters.chatStore,
        messageStore: adapters.messageStore,
        eventLog: adapters.eventLog,
        closeConnections: (request) => directory.closeConnections(request),
      })
    : undefined;
  if (chatmgmt !== undefined) cleanup.push(() => chatmgmt.close());

  if (hosts("gateway")) {
    gateway = createGateway({
      gatewayId: gatewayNodeId,
      limits: gatewayLimitsFromConfig(config),
      logger,
      clock,
      ids,
      ingest: ingestApi,
      connections: adapters.connections,
      keys: jwtKeysFor(config, chatmgmt, clock),
      peers: directory,
      sessions: sessionCheckOf(adapters.chatManagement.sessionStore, clock),
      trustedProxies: new TrustedProxies(config.trustedProxies),
      ...(tracer === undefined ? {} : { tracer }),
      inspect: inspector.stepped("connection"),
      metrics: metrics.gateway,
    });
    const running = gateway;
    cleanup.push(() => running.drain(0));
  }

  // Fanout plane.
  const fanout = hosts("fanout")
    ? await startFanoutWorker({
        eventLog: adapters.eventLog,
        chatStore: adapters.chatStore,
        connections: adapters.connections,
        nodes: adapters.nodes,
        gatewayFor: (node) => directory.apiFor(node),
        clock,
        logger: logger.child({ component: "fanout" }),
        nodeId: embedded ? `${config.nodeId}-fanout` : config.nodeId,
        options: fanoutOptionsFromConfig(config),
        ...(tracer === undefined ? {} : { tracer }),
      })
    : undefined;
  if (fanout !== undefined) cleanup.push(() => fanout.stop());
  if (fanout !== undefined) inspector.poll("delivery", inspectedDeliveries(fanout));
  metrics.observe({
    ring: placement.view,
    ...(gateway === undefined ? {} : { gateway }),
    ...(ingest === undefined ? {} : { ingest: ingest.service }),
    ...(fanout === undefined ? {} : { fanout }),
  });

  // Internal gRPC: IngestService on ingest nodes, GatewayService on gateways, ChatService on chatmgmt nodes.
  // Every one of them refuses calls without the deployment's internal token (when one is configured).
  const interceptors = internalServerInterceptors(internalToken, logger.child({ component: "grpc" }));
  let grpc: RunningGrpcServer | undefined;
  if (!embedded && (ingest !== undefined || gateway !== undefined)) {
    const service = ingest?.service;
    const api = gateway?.api;
    grpc = await startGrpcServer({
      host: config.host,
      port: config.grpcPort,
      interceptors,
      register: (server) => {
        if (service !== undefined) addIngestService(server, service, { logger });
        if (api !== undefined) addGatewayService(server, api, { logger });
      },
    });
    const server = grpc;
    cleanup.push(() => server.stop(0));
  }
  const chatGrpc =
    !embedded && chatmgmt !== undefined
      ? await chatmgmt.startGrpc(config.host, config.chatGrpcPort, interceptors)
      : undefined;

  const listeners = await startListeners({
    config,
    logger,
    clock,
    identity: {
      service: SERVICE_NAME,
      version: SERVICE_VERSION,
      role: config.role,
      nodeId: config.nodeId,
      startedAt,
    },
    checks: adapters.checks,
    chatmgmt,
    gateway: gateway === undefined ? undefined : { nodeId: gatewayNodeId, server: gateway },
    adminRoute: placement.adminRoute,
    inspector,
    metricsRoute: metrics.route,
  });
  cleanup.push(() => listeners.close(0));
  const { address, baseUrl, internalAddress, internalUrl } = listeners;

  const roles = embedded ? NODE_ROLES : [config.role as NodeRole];
  const nodes = (): NodeInfo[] =>
    roles.map((role) => ({
      nodeId:
        role === "ingest"
          ? ingestNodeId
          : role === "gateway"
            ? gatewayNodeId
            : embedded
              ? `${config.nodeId}-${role}`
              : config.nodeId,
      role,
      // Peers call ingest nodes and gateways over gRPC; the other roles are reached over HTTP.
      address: `${host}:${(role === "ingest" || role === "gateway") && grpc !== undefined ? grpc.port : address.port}`,
      startedAt,
      ...(role === "ingest" && ingest !== undefined ? { placement: ingest.ownership.status() } : {}),
    }));
  heartbeat = new NodeHeartbeat(adapters.nodes, nodes, config.nodeTtlMs, clock, logger);
  await heartbeat.start();
  const beating = heartbeat;
  cleanup.push(() => beating.stop());
  await ingest?.settle();

  let stopping: Promise<void> | undefined;
  return {
    config,
    adapters,
    ingest: ingest?.service,
    gateway,
    chatmgmt,
    fanout,
    placement,
    inspector,
    ingestNodeId: ingest === undefined ? undefined : ingestNodeId,
    grpcPort: grpc?.port,
    chatGrpcPort: chatGrpc?.port,
    address,
    baseUrl,
    internalAddress,
    internalUrl,
    stop: (graceMs = config.shutdownGraceMs) => {
      stopping ??= (async () => {
        // Leaving the registry first moves this node's chats (and new connections) to the others.
        await beating.stop();
        // Clients hear server_shutdown and reconnect elsewhere; their routing entries go.
        await gateway?.drain(graceMs);
        await listeners.close(graceMs);
        inspector.close();
        await grpc?.stop(graceMs);
        await fanout?.stop();
        await chatmgmt?.close();
        placement.stop();
        await ingest?.stop();
        directory.close();
        await metrics.close();
        await adapters.close();
        // Last: spans of the shutdown itself are exported too.
        await traces.ownTracing?.shutdown();
      })();
      return stopping;
    },
  };
}

/** A token's session is live while chat management keeps it (revocation deletes it) and it has not expired. */
function sessionCheckOf(store: SessionStore, clock: Clock): SessionCheck {
  return {
    isLive: async (sessionId, userId) => {
      if (!/^sess_[0-9A-Z]{26}$/.test(sessionId)) return false;
      const session = await store.getSession(sessionId as SessionId);
      return session !== undefined && session.userId === userId && session.expiresAt > clock.now();
    },
  };
}

function requireGateway(gateway: Gateway | undefined): GatewayApi {
  if (gateway === undefined)
    throw new AppError("SERVICE_UNAVAILABLE", "the gateway of this process is not running");
  return gateway.api;
}

/** Where a gateway gets chat management's public keys: in-process when both run here, else its JWKS URL. */
function jwtKeysFor(config: Config, chatmgmt: ChatManagement | undefined, clock: Clock): JwtKeySource {
  if (config.jwksUrl !== undefined) return remoteJwks({ url: config.jwksUrl });
  if (chatmgmt !== undefined) return inProcessJwks({ load: () => chatmgmt.jwks(), clock });
  throw new AppError("CONFIG_INVALID", "a gateway without chat management in its process needs JWKS_URL", {
    details: { option: "JWKS_URL" },
  });
}
