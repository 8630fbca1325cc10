import type { FanoutWorker } from "../../actors/fanout/fanout-worker.js";
import { AppError } from "../errors.js";
import type { ActorRegistry, ActorSummary } from "./actor-registry.js";
import { ACTOR_KINDS, type ActorKind, SERVER_MACHINES } from "./machine-catalog.js";
import type { RingOverview } from "./ring-overview.js";
import { pathAndAncestors } from "./state-value.js";

/** What `GET /inspector/api/snapshot` reads. */
export interface SnapshotSources {
  readonly registry: ActorRegistry;
  /** This process's fanout worker, when it runs one: its in-flight records are the live delivery machines. */
  readonly fanout: () => FanoutWorker | undefined;
  /** Where each active sequencer of this process is in its write cycle (D16), by chat. */
  readonly writes: () => ReadonlyMap<string, string>;
  readonly ring: RingOverview;
  readonly node: { readonly nodeId: string; readonly role: string };
  readonly now: () => number;
}

export interface ActorFilter {
  readonly kind: ActorKind | undefined;
  readonly state: string | undefined;
  readonly key: string | undefined;
  readonly limit: number;
}

export const ACTOR_LIST_DEFAULT = 100;
export const ACTOR_LIST_MAX = 1_000;

/** `?kind=&state=&key=&limit=` of the snapshot request; anything malformed is a VALIDATION_ERROR. */
export function actorFilterOf(params: URLSearchParams): ActorFilter {
  const kind = params.get("kind") || undefined;
  if (kind !== undefined && !(ACTOR_KINDS as readonly string[]).includes(kind)) {
    throw new AppError("VALIDATION_ERROR", `kind must be one of ${ACTOR_KINDS.join(", ")}`, {
      details: { field: "kind" },
    });
  }
  const limitText = params.get("limit");
  const limit = limitText === null || limitText === "" ? ACTOR_LIST_DEFAULT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0 || limit > ACTOR_LIST_MAX) {
    throw new AppError("VALIDATION_ERROR", `limit must be an integer from 0 to ${ACTOR_LIST_MAX}`, {
      details: { field: "limit" },
    });
  }
  return {
    kind: kind as ActorKind | undefined,
    state: params.get("state") || undefined,
    key: params.get("key") || undefined,
    limit,
  };
}

export async function inspectorSnapshot(sources: SnapshotSources, filter: ActorFilter): Promise<unknown> {
  const deliveries = deliveriesOf(sources.fanout());
  const writes = sources.writes();
  const writeCounts: Record<string, number> = {};
  for (const state of writes.values()) writeCounts[state] = (writeCounts[state] ?? 0) + 1;
  const machines = SERVER_MACHINES.map((drawn) => {
    const live =
      drawn.kind === "write"
        ? { live: writes.size, counts: writeCounts, ended: {} }
        : drawn.kind === "delivery"
          ? { live: deliveries.inFlight.length, counts: deliveries.counts, ended: deliveries.ended }
          : {
              live: sources.registry.size(drawn.kind),
              counts: sources.registry.counts(drawn.kind),
              ended: sources.registry.ended(drawn.kind),
            };
    return {
      kind: drawn.kind,
      name: drawn.name,
      title: drawn.title,
      source: drawn.source,
      diagram: `/inspector/machines/${drawn.name}.svg`,
      ...live,
    };
  });
  const listed = sources.registry.list(filter);
  const actors: ActorSummary[] = listed.actors;
  let total = listed.total;
  if (filter.kind === undefined || filter.kind === "delivery") {
    for (const record of deliveries.inFlight) {
      const key = `${record.chatId}:${record.sequence}`;
      if (filter.key !== undefined && !key.includes(filter.key)) continue;
      if (filter.state !== undefined && !pathAndAncestors(record.state).includes(filter.state)) continue;
      total++;
      if (actors.length < filter.limit)
        actors.push({ kind: "delivery", key, state: record.state, watchable: false });
    }
  }
  if (filter.kind === undefined || filter.kind === "write") {
    for (const [key, state] of writes) {
      if (filter.key !== undefined && !key.includes(filter.key)) continue;
      if (filter.state !== undefined && filter.state !== state) continue;
      total++;
      if (actors.length < filter.limit) actors.push({ kind: "write", key, state, watchable: false });
    }
  }
  let ring: unknown;
  try {
    ring = await sources.ring.describe();
  } catch (error) {
    // The page still shows this process's actors when the ring store or the node registry is unreachable.
    ring = { error: error instanceof Error ? error.message : String(error) };
  }
  return {
    node: { node_id: sources.node.nodeId, role: sources.node.role },
    at: new Date(sources.now()).toISOString(),
    machines,
    actors: { items: actors, total, limit: filter.limit },
    ring,
  };
}

/** A record's dotted path (`skipped.duplicate`) counts for its ancestors too, as on the diagram. */
function deliveriesOf(fanout: FanoutWorker | undefined) {
  const inFlight = fanout?.inFlight() ?? [];
  const counts: Record<string, number> = {};
  for (const record of inFlight) {
    for (const path of pathAndAncestors(record.state)) counts[path] = (counts[path] ?? 0) + 1;
  }
  const ended: Record<string, number> = {};
  if (fanout !== undefined) {
    const stats = fanout.stats();
    for (const [state, count] of Object.entries(stats.records)) {
      if (count > 0 && state !== "skipped") ended[state] = count;
    }
    for (const [reason, count] of Object.entries(stats.skipped)) {
      if (count > 0) ended[`skipped.${reason}`] = count;
    }
  }
  return { inFlight, counts, ended };
}
