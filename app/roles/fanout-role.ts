import type { Tracer } from "@opentelemetry/api";
import { type FanoutWorker, fanoutOptionsFromConfig, startFanoutWorker } from "../../actors/fanout/index.js";
import { inspectedDeliveries } from "../../actors/fanout/inspected-deliveries.js";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import type { GatewayDirectory } from "../../runtime/gateway-directory.js";
import type { Inspector } from "../../runtime/inspector/inspector.js";
import type { Logger } from "../../runtime/logger.js";
import type { PlatformAdapters } from "../platform-adapters.js";

/**
 * The fanout plane of one process: the worker that consumes `messages.persisted`, finds each recipient's
 * gateway (members, then Redis routing) and delivers through the gateway directory; its deliveries are shown
 * in the inspector.
 */
export async function startFanoutRole(options: {
  readonly config: Config;
  readonly adapters: PlatformAdapters;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly nodeId: string;
  readonly directory: GatewayDirectory;
  readonly inspector: Inspector;
  readonly tracer?: Tracer;
}): Promise<FanoutWorker> {
  const { adapters, directory, tracer } = options;
  const fanout = await startFanoutWorker({
    eventLog: adapters.eventLog,
    chatStore: adapters.chatStore,
    connections: adapters.connections,
    nodes: adapters.nodes,
    gatewayFor: (node) => directory.apiFor(node),
    clock: options.clock,
    logger: options.logger.child({ component: "fanout" }),
    nodeId: options.nodeId,
    options: fanoutOptionsFromConfig(options.config),
    ...(tracer === undefined ? {} : { tracer }),
  });
  options.inspector.poll("delivery", inspectedDeliveries(fanout));
  return fanout;
}
