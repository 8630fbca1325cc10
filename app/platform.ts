import type { AddressInfo } from "node:net";
import type { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import type { FanoutWorker } from "../actors/fanout/index.js";
import type { ChatManagement } from "../chatmgmt/create-chat-management.js";
import type { Gateway } from "../gateway/index.js";
import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import { internalGrpcTokenOf } from "../runtime/grpc/internal-token.js";
import { IdFactory } from "../runtime/ids.js";
import type { IngestApi } from "../runtime/ingest-api.js";
import { createInspector, type Inspector } from "../runtime/inspector/inspector.js";
import type { Logger } from "../runtime/logger.js";
import { createPlatformMetrics } from "../runtime/metrics/platform-metrics.js";
import type { NodeHeartbeat } from "../runtime/node-heartbeat.js";
import { type Placement, startPlacement } from "../runtime/placement/placement.js";
import type { NodeRole } from "../runtime/ports/routing.js";
import { type Tracing, tracingFromConfig } from "../runtime/tracing/tracing.js";
import { SERVICE_NAME, SERVICE_VERSION } from "../runtime/version.js";
import { SERVER_MACHINES } from "./machines.js";
import { openAdapters, type PlatformAdapters } from "./platform-adapters.js";
import { startInternalGrpc } from "./platform-grpc.js";
import { reachableHost, startListeners } from "./platform-listeners.js";
import { announceNodes, nodeIdOf } from "./platform-nodes.js";
import { createChatmgmtRole } from "./roles/chatmgmt-role.js";
import { startFanoutRole } from "./roles/fanout-role.js";
import { createGatewayPeers, createGatewayRole } from "./roles/gateway-role.js";
import { createIngestRole, inspectIngest } from "./roles/ingest-role.js";

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

export { EMBEDDED_INGEST_NODE_ID } from "./platform-nodes.js";

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

/**
 * The order of assembly: placement, metrics and the inspector first (every role reports to them from its first
 * actor), then the roles — ingest, the gateway directory, chat management (whose keys the gateway needs), the
 * gateway, fanout — then internal gRPC, the listeners, and last the announcement in the registry, so peers
 * learn of this node only once it serves.
 */
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
  const traced = tracer === undefined ? {} : { tracer };
  const embedded = config.role === "all";
  const hosts = (role: NodeRole) => embedded || config.role === role;
  const ids = new IdFactory(clock);
  const placement = await startPlacement(config, adapters, clock, logger, internalToken);
  cleanup.push(() => placement.stop());
  const metrics = createPlatformMetrics(config, clock, logger);
  cleanup.push(() => metrics.close());
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

  // Durability plane. A hand-off announces itself with a heartbeat at once; the heartbeat starts last.
  let heartbeat: NodeHeartbeat | undefined;
  const ingestNodeId = nodeIdOf(config, "ingest");
  const ingest = hosts("ingest")
    ? createIngestRole({
        config,
        adapters,
        placement,
        clock,
        logger,
        startedAt,
        metrics,
        ...traced,
        nodeId: ingestNodeId,
        onApplied: () => void heartbeat?.beatNow(),
      })
    : undefined;
  if (ingest !== undefined) cleanup.push(() => ingest.stop());
  if (ingest !== undefined) inspectIngest(inspector, ingest.service);
  // Whoever calls a chat's owner: in-process when this process is the only ingest node, else by the ring.
  const ingestApi: IngestApi = embedded && ingest !== undefined ? ingest.service : placement.router();

  const gatewayNodeId = nodeIdOf(config, "gateway");
  const peers = createGatewayPeers({
    adapters,
    logger,
    localNodeId: hosts("gateway") ? gatewayNodeId : undefined,
    internalToken,
  });
  const { directory } = peers;
  cleanup.push(() => directory.close());

  const chatmgmt = hosts("chatmgmt")
    ? await createChatmgmtRole({ config, adapters, clock, logger, ids, directory })
    : undefined;
  if (chatmgmt !== undefined) cleanup.push(() => chatmgmt.close());

  const gateway = hosts("gateway")
    ? createGatewayRole({
        config,
        adapters,
        clock,
        logger,
        ids,
        chatmgmt,
        peers,
        inspector,
        metrics,
        ...traced,
        nodeId: gatewayNodeId,
        ingest: ingestApi,
      })
    : undefined;
  if (gateway !== undefined) cleanup.push(() => gateway.drain(0));

  const fanout = hosts("fanout")
    ? await startFanoutRole({
        config,
        adapters,
        clock,
        logger,
        directory,
        inspector,
        ...traced,
        nodeId: nodeIdOf(config, "fanout"),
      })
    : undefined;
  if (fanout !== undefined) cleanup.push(() => fanout.stop());
  metrics.observe({
    ring: placement.view,
    ...(gateway === undefined ? {} : { gateway }),
    ...(ingest === undefined ? {} : { ingest: ingest.service }),
    ...(fanout === undefined ? {} : { fanout }),
  });

  const { grpc, chatGrpc } = await startInternalGrpc({
    config,
    logger,
    internalToken,
    gateway,
    chatmgmt,
    ingest: ingest?.service,
    started: (stop) => cleanup.push(stop),
  });
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

  const beating = await announceNodes({
    config,
    clock,
    logger,
    startedAt,
    registry: adapters.nodes,
    host: reachableHost(config.host),
    httpPort: listeners.address.port,
    grpcPort: grpc?.port,
    placement: ingest === undefined ? undefined : () => ingest.ownership.status(),
  });
  heartbeat = beating;
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
    address: listeners.address,
    baseUrl: listeners.baseUrl,
    internalAddress: listeners.internalAddress,
    internalUrl: listeners.internalUrl,
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
