import type { Server } from "node:http";
import type { FanoutWorker } from "../../actors/fanout/fanout-worker.js";
import type { ConnectionInspector } from "../../gateway/connection.js";
import type { LifecycleActor } from "../actor-host.js";
import type { Clock } from "../clock.js";
import type { Route } from "../http/server.js";
import type { Logger } from "../logger.js";
import type { Placement } from "../placement/placement.js";
import type { NodeRegistry } from "../ports/routing.js";
import { ActorRegistry } from "./actor-registry.js";
import { connectionInspector, sequencerLifecycles } from "./actor-sources.js";
import type { InspectorAccess } from "./inspector-access.js";
import { inspectorRoute } from "./inspector-route.js";
import { InspectorSocket } from "./inspector-socket.js";
import { RingOverview } from "./ring-overview.js";

/**
 * The inspector of one process (`/inspector` on its internal HTTP listener, embedded or any role of a cluster): the
 * machines' diagrams with live counts of this process's actors per state, one actor's steps streamed live,
 * and the ring. Built before the roles so that they can report their actors from the first one.
 */
export interface InspectorOptions {
  readonly node: { readonly nodeId: string; readonly role: string };
  readonly access: InspectorAccess;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly placement: Placement;
  readonly nodes: NodeRegistry;
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
}

export interface Inspector {
  readonly registry: ActorRegistry;
  /** The gateway's hook (GatewayDeps.inspect). */
  readonly connections: ConnectionInspector;
  /** Counts the sequencer actors of an ingest role's actor host. */
  observeSequencers(host: {
    observeLifecycles(listener: (key: string, lifecycle: LifecycleActor) => void): () => void;
  }): void;
  /** Shows the in-flight records of a fanout worker as live delivery machines. */
  observeFanout(worker: FanoutWorker): void;
  /** Shows where each active sequencer is in its write cycle (D16). */
  observeWrites(source: { writeCycles(): ReadonlyMap<string, string> }): void;
  readonly route: Route;
  /** Serves `/inspector/ws` on the server's upgrade event. */
  attach(server: Server): void;
  close(): void;
}

/** Chats examined per scan for the per-node chat counts, and how long a count is reused. */
const RING_CHAT_SCAN_LIMIT = 10_000;
const RING_CHAT_CACHE_MS = 15_000;

export function createInspector(options: InspectorOptions): Inspector {
  const registry = new ActorRegistry(options.clock);
  let fanout: FanoutWorker | undefined;
  let writes: { writeCycles(): ReadonlyMap<string, string> } | undefined;
  const stops: Array<() => void> = [];
  const ring = new RingOverview({
    admin: options.placement.admin,
    view: options.placement.view,
    nodes: options.nodes,
    chatIds: options.chatIds,
    clock: options.clock,
    scanLimit: RING_CHAT_SCAN_LIMIT,
    cacheMs: RING_CHAT_CACHE_MS,
  });
  const socket = new InspectorSocket(
    registry,
    options.access,
    options.logger.child({ component: "inspector" }),
  );
  return {
    registry,
    connections: connectionInspector(registry),
    observeSequencers: (host) => {
      stops.push(host.observeLifecycles(sequencerLifecycles(registry)));
    },
    observeFanout: (worker) => {
      fanout = worker;
    },
    observeWrites: (source) => {
      writes = source;
    },
    route: inspectorRoute(
      {
        registry,
        fanout: () => fanout,
        writes: () => writes?.writeCycles() ?? new Map(),
        ring,
        node: options.node,
        now: () => options.clock.now(),
      },
      options.access,
    ),
    attach: (server) => socket.attach(server),
    close: () => {
      for (const stop of stops.splice(0)) stop();
      socket.close();
    },
  };
}
