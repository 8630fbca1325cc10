import type { Server } from "node:http";
import type { LifecycleActor } from "../actor-host.js";
import type { Clock } from "../clock.js";
import type { Route } from "../http/server.js";
import type { Logger } from "../logger.js";
import type { Placement } from "../placement/placement.js";
import type { NodeRegistry } from "../ports/routing.js";
import { ActorRegistry } from "./actor-registry.js";
import { hostLifecycles, type SteppedActorReporter, steppedActors } from "./actor-sources.js";
import type { InspectorAccess } from "./inspector-access.js";
import { inspectorRoute } from "./inspector-route.js";
import { InspectorSocket } from "./inspector-socket.js";
import type { ActorKind, PolledSource, ServerMachine } from "./machine-catalog.js";
import { Recordings } from "./recordings.js";
import { RingOverview } from "./ring-overview.js";

/**
 * The inspector of one process (`/inspector` on its internal HTTP listener, embedded or any role of a cluster): the
 * machines' diagrams with live counts of this process's actors per state, one actor's steps streamed live,
 * recordings of transitions to download, and the ring. Built before the roles so that they can report their actors from the first one. The machines
 * are registered by the composition root; the planes report their actors through the hooks below.
 */
export interface InspectorOptions {
  readonly node: { readonly nodeId: string; readonly role: string };
  readonly access: InspectorAccess;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly placement: Placement;
  readonly nodes: NodeRegistry;
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
  /** The machines shown, one per kind of live actor. */
  readonly machines: readonly ServerMachine[];
}

export interface Inspector {
  readonly registry: ActorRegistry;
  /** For a driver that steps its machines itself (the gateway's connections): reports each step. */
  stepped(kind: ActorKind): SteppedActorReporter;
  /** Counts the lifecycle actors of an actor host (an ingest role's sequencers). */
  observeLifecycles(
    kind: ActorKind,
    host: { observeLifecycles(listener: (key: string, lifecycle: LifecycleActor) => void): () => void },
  ): void;
  /** Shows actors a plane reports when asked (a fanout worker's records in flight, the write cycles). */
  poll(kind: ActorKind, source: PolledSource): void;
  readonly route: Route;
  /** Serves `/inspector/ws` on the server's upgrade event. */
  attach(server: Server): void;
  close(): void;
}

/** Chats examined per scan for the per-node chat counts, and how long a count is reused. */
const RING_CHAT_SCAN_LIMIT = 10_000;
const RING_CHAT_CACHE_MS = 15_000;

export function createInspector(options: InspectorOptions): Inspector {
  const kinds = options.machines.map((machine) => machine.kind);
  const registry = new ActorRegistry(options.clock, kinds);
  const polled = new Map<ActorKind, PolledSource>();
  const recordings = new Recordings(registry, options.clock);
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
    kinds,
    options.access,
    options.logger.child({ component: "inspector" }),
  );
  return {
    registry,
    stepped: (kind) => steppedActors(registry, kind),
    observeLifecycles: (kind, host) => {
      stops.push(host.observeLifecycles(hostLifecycles(registry, kind)));
    },
    poll: (kind, source) => {
      polled.set(kind, source);
    },
    route: inspectorRoute(
      {
        registry,
        machines: options.machines,
        polled: (kind) => polled.get(kind),
        ring,
        node: options.node,
        now: () => options.clock.now(),
      },
      options.access,
      recordings,
    ),
    attach: (server) => socket.attach(server),
    close: () => {
      for (const stop of stops.splice(0)) stop();
      recordings.close();
      socket.close();
    },
  };
}
