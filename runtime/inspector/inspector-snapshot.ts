import { AppError } from "../errors.js";
import type { ActorRegistry, ActorSummary } from "./actor-registry.js";
import type { ActorKind, PolledSource, ServerMachine } from "./machine-catalog.js";
import type { RingOverview } from "./ring-overview.js";
import { pathAndAncestors } from "./state-value.js";

/** What `GET /inspector/api/snapshot` reads. */
export interface SnapshotSources {
  readonly registry: ActorRegistry;
  /** The registered machines, one per kind of live actor. */
  readonly machines: readonly ServerMachine[];
  /** The source of a kind whose actors are reported when asked (not step by step), if one was registered. */
  readonly polled: (kind: ActorKind) => PolledSource | undefined;
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

const ACTOR_LIST_DEFAULT = 100;
const ACTOR_LIST_MAX = 1_000;

/** `?kind=&state=&key=&limit=` of the snapshot request; anything malformed is a VALIDATION_ERROR. */
export function actorFilterOf(params: URLSearchParams, kinds: readonly ActorKind[]): ActorFilter {
  const kind = params.get("kind") || undefined;
  if (kind !== undefined && !kinds.includes(kind)) {
    throw new AppError("VALIDATION_ERROR", `kind must be one of ${kinds.join(", ")}`, {
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
    kind,
    state: params.get("state") || undefined,
    key: params.get("key") || undefined,
    limit,
  };
}

export async function inspectorSnapshot(sources: SnapshotSources, filter: ActorFilter): Promise<unknown> {
  const polled = new Map(
    sources.machines.flatMap(({ kind }) => {
      const source = sources.polled(kind);
      return source === undefined ? [] : [[kind, source()] as const];
    }),
  );
  const machines = sources.machines.map((drawn) => {
    const reported = polled.get(drawn.kind);
    const live =
      reported === undefined
        ? {
            live: sources.registry.size(drawn.kind),
            counts: sources.registry.counts(drawn.kind),
            ended: sources.registry.ended(drawn.kind),
          }
        : { live: reported.items.length, counts: countsOf(reported), ended: reported.ended };
    return {
      kind: drawn.kind,
      name: drawn.name,
      title: drawn.title,
      source: drawn.source,
      diagram: `/inspector/machines/${drawn.name}.svg`,
      definition: `/inspector/machines/${drawn.name}.json`,
      // Actors reported only when asked have no steps to watch or record.
      recordable: reported === undefined,
      ...live,
    };
  });
  const listed = sources.registry.list(filter);
  const actors: ActorSummary[] = listed.actors;
  let total = listed.total;
  for (const [kind, reported] of polled) {
    if (filter.kind !== undefined && filter.kind !== kind) continue;
    for (const { key, state } of reported.items) {
      if (filter.key !== undefined && !key.includes(filter.key)) continue;
      if (filter.state !== undefined && !pathAndAncestors(state).includes(filter.state)) continue;
      total++;
      if (actors.length < filter.limit) actors.push({ kind, key, state, watchable: false });
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

/** A dotted state path (`skipped.duplicate`) counts for its ancestors too, as on the diagram. */
function countsOf(reported: ReturnType<PolledSource>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { state } of reported.items) {
    for (const path of pathAndAncestors(state)) counts[path] = (counts[path] ?? 0) + 1;
  }
  return counts;
}
