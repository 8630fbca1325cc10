import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import type { Logger } from "../runtime/logger.js";
import { NodeHeartbeat } from "../runtime/node-heartbeat.js";
import {
  NODE_ROLES,
  type NodeInfo,
  type NodePlacement,
  type NodeRegistry,
  type NodeRole,
} from "../runtime/ports/routing.js";

/**
 * The ring member of the embedded process's ingest role. The embedded process is the only ingest node and owns
 * every chat; its member keeps one name across restarts (the default NODE_ID holds the pid), so the ring does
 * not collect dead members.
 */
export const EMBEDDED_INGEST_NODE_ID = "embedded-ingest";

/** The roles this process hosts: every one when embedded (ROLE=all), else its own. */
const rolesOf = (config: Config): readonly NodeRole[] =>
  config.role === "all" ? NODE_ROLES : [config.role as NodeRole];

/** The node id a role of this process has in the registry: one per role when they share the process. */
export function nodeIdOf(config: Config, role: NodeRole): string {
  if (config.role !== "all") return config.nodeId;
  return role === "ingest" ? EMBEDDED_INGEST_NODE_ID : `${config.nodeId}-${role}`;
}

/**
 * Announces every role of this process in the node registry, beating until stopped. Peers call ingest nodes
 * and gateways over gRPC (when this process serves it); the other roles are reached over HTTP. The ingest
 * role's hand-off progress travels with each beat.
 */
export async function announceNodes(options: {
  readonly config: Config;
  readonly registry: NodeRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `host` peers reach this machine at. */
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number | undefined;
  readonly startedAt: number;
  readonly placement: (() => NodePlacement) | undefined;
}): Promise<NodeHeartbeat> {
  const { config, host, grpcPort, placement } = options;
  const portOf = (role: NodeRole) =>
    (role === "ingest" || role === "gateway") && grpcPort !== undefined ? grpcPort : options.httpPort;
  const nodes = (): NodeInfo[] =>
    rolesOf(config).map((role) => ({
      nodeId: nodeIdOf(config, role),
      role,
      address: `${host}:${portOf(role)}`,
      startedAt: options.startedAt,
      ...(role === "ingest" && placement !== undefined ? { placement: placement() } : {}),
    }));
  const heartbeat = new NodeHeartbeat(
    options.registry,
    nodes,
    config.nodeTtlMs,
    options.clock,
    options.logger,
  );
  await heartbeat.start();
  return heartbeat;
}
