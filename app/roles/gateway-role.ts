import type { Tracer } from "@opentelemetry/api";
import type { ChatManagement } from "../../chatmgmt/create-chat-management.js";
import {
  createGateway,
  type Gateway,
  gatewayLimitsFromConfig,
  inProcessJwks,
  type JwtKeySource,
  remoteJwks,
  type SessionCheck,
} from "../../gateway/index.js";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { AppError } from "../../runtime/errors.js";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import { GatewayDirectory } from "../../runtime/gateway-directory.js";
import { GatewayGrpcClient } from "../../runtime/grpc/gateway-client.js";
import { TrustedProxies } from "../../runtime/http/client-address.js";
import type { IdFactory, SessionId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import type { Inspector } from "../../runtime/inspector/inspector.js";
import type { Logger } from "../../runtime/logger.js";
import type { PlatformMetrics } from "../../runtime/metrics/platform-metrics.js";
import type { SessionStore } from "../../runtime/ports/session-store.js";
import type { PlatformAdapters } from "../platform-adapters.js";

/**
 * The connection plane of one process, and the directory every caller of gateways goes through (chat
 * management closes connections, fanout delivers). The directory exists before the gateway: the gateway needs
 * chat management's keys, and chat management needs the directory. So this process's own gateway joins the
 * directory late: calls for it before it is created are refused as SERVICE_UNAVAILABLE.
 */
export interface GatewayPeers {
  readonly directory: GatewayDirectory;
  /** This process's gateway, once created: the directory calls it in-process. */
  bind(gateway: Gateway): void;
}

export function createGatewayPeers(options: {
  readonly adapters: PlatformAdapters;
  readonly logger: Logger;
  /** The node id of this process's gateway; absent when the process hosts none. */
  readonly localNodeId: string | undefined;
  readonly internalToken: string | undefined;
}): GatewayPeers {
  let gateway: Gateway | undefined;
  const local: GatewayApi = {
    deliver: (deliveries, call) => requireGateway(gateway).deliver(deliveries, call),
    closeConnections: (request) => requireGateway(gateway).closeConnections(request),
    pushEphemeral: (pushes) => requireGateway(gateway).pushEphemeral(pushes),
  };
  const { localNodeId, internalToken } = options;
  const directory = new GatewayDirectory({
    nodes: options.adapters.nodes,
    connections: options.adapters.connections,
    logger: options.logger,
    ...(localNodeId === undefined ? {} : { local: { nodeId: localNodeId, api: local } }),
    connect: (address) => new GatewayGrpcClient({ address, internalToken }),
  });
  return {
    directory,
    bind: (created) => {
      gateway = created;
    },
  };
}

export function createGatewayRole(options: {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ids: IdFactory;
  readonly nodeId: string;
  /** Where sends go: this process's sequencers, or the ring's router to their owners. */
  readonly ingest: IngestApi;
  readonly chatmgmt: ChatManagement | undefined;
  readonly peers: GatewayPeers;
  readonly inspector: Inspector;
  readonly metrics: Pick<PlatformMetrics, "gateway">;
  readonly tracer?: Tracer;
}): Gateway {
  const { config, adapters, clock, tracer } = options;
  const gateway = createGateway({
    gatewayId: options.nodeId,
    limits: gatewayLimitsFromConfig(config),
    logger: options.logger,
    clock,
    ids: options.ids,
    ingest: options.ingest,
    connections: adapters.connections,
    keys: jwtKeysFor(config, options.chatmgmt, clock),
    peers: options.peers.directory,
    sessions: sessionCheckOf(adapters.chatManagement.sessionStore, clock),
    trustedProxies: new TrustedProxies(config.trustedProxies),
    // Typing indicators: members from storage, dropped on membership events; recipients on any gateway.
    typing: {
      chatStore: adapters.chatStore,
      router: options.peers.directory,
      eventLog: adapters.eventLog,
    },
    ...(tracer === undefined ? {} : { tracer }),
    inspect: options.inspector.stepped("connection"),
    metrics: options.metrics.gateway,
  });
  options.peers.bind(gateway);
  return gateway;
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
