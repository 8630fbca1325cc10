import {
  type Actor,
  type AnyStateMachine,
  createActor,
  type EventFromLogic,
  type InputFrom,
  type InspectionEvent,
} from "xstate";
import {
  type GraphTransition,
  machineGraph,
  transitionLabel,
} from "../../runtime/inspector/machine-graph.js";

/**
 * Walks every transition of a machine's drawn graph (runtime/inspector/machine-graph.ts, the graph
 * docs/machines/ and the inspector show) on real XState actors: breadth first from the initial state, each
 * candidate step is played on a fresh actor along the path that reached its source, and the transitions the
 * actor really takes are read from its inspection events. A drawn transition that no path takes, or a
 * transition taken that the drawing lacks, is reported, so a walk test fails when the drawing and the machine
 * part ways.
 *
 * Steps are the events the graph names (as `{ type }`, or the variants given in `events` when guards or
 * delays read a payload) and the passing of time: the actor runs on a clock of its own that jumps to the next
 * due timer, so `after` transitions fire in due order; `always` transitions are taken by the actor itself.
 * Guards that read context are reached through the paths that set it (give `input` values that make both
 * branches reachable within `maxDepth`).
 */
export interface WalkOptions<TMachine extends AnyStateMachine> {
  readonly machine: TMachine;
  readonly input?: InputFrom<TMachine>;
  /** Per event type, the events to try (payloads the guards or delays read); default `{ type }`. */
  readonly events?: {
    readonly [K in EventFromLogic<TMachine>["type"]]?: readonly EventFromLogic<TMachine>[];
  };
  /** The longest path tried, in steps; default 10. */
  readonly maxDepth?: number;
}

export interface Walk {
  /** Every drawn transition (`source -> target: label`, as drawn), in drawing order. */
  readonly drawn: readonly string[];
  /** Each drawn transition that was taken, with the shortest path (steps from the initial state) taking it. */
  readonly taken: ReadonlyMap<string, readonly string[]>;
  /** Drawn transitions no path took. */
  readonly untaken: readonly string[];
  /** Transitions an actor took that the drawing lacks. */
  readonly undrawn: readonly string[];
}

type Step<E> = { readonly kind: "send"; readonly event: E } | { readonly kind: "time" };

/** The name of a transition as the drawing labels it: `source -> target: EVENT [guard]`. */
export function edgeName(transition: GraphTransition): string {
  return `${transition.source} -> ${transition.target}: ${transitionLabel(transition)}`;
}

export function walkMachine<TMachine extends AnyStateMachine>(options: WalkOptions<TMachine>): Walk {
  type Event = EventFromLogic<TMachine>;
  const graph = machineGraph(options.machine);
  const drawn = [...new Set(graph.transitions.map(edgeName))];
  const eventTypes = [
    ...new Set(graph.transitions.flatMap((t) => (t.trigger.kind === "event" ? [t.trigger.event] : []))),
  ];
  const variants = (options.events ?? {}) as Partial<Record<string, readonly Event[]>>;
  const candidates: Step<Event>[] = [
    ...eventTypes.flatMap((type) =>
      (variants[type] ?? [{ type } as Event]).map((event) => ({ kind: "send", event }) as const),
    ),
    { kind: "time" },
  ];
  const maxDepth = options.maxDepth ?? 10;

  const taken = new Map<string, readonly string[]>();
  const undrawn = new Set<string>();
  const drawnSet = new Set(drawn);
  const note = (names: readonly string[], path: readonly Step<Event>[]) => {
    for (const name of names) {
      if (!drawnSet.has(name)) undrawn.add(name);
      else if (!taken.has(name)) taken.set(name, path.map(describe));
    }
  };

  const start = play(options, []);
  note(start.transitions, []);
  const seen = new Set([start.key]);
  let frontier: Step<Event>[][] = [[]];
  for (let depth = 0; depth < maxDepth && frontier.length > 0 && taken.size < drawn.length; depth++) {
    const next: Step<Event>[][] = [];
    for (const path of frontier) {
      for (const step of candidates) {
        const longer = [...path, step];
        const outcome = play(options, longer);
        if (outcome.moved) note(outcome.transitions, longer);
        if (outcome.active && outcome.moved && !seen.has(outcome.key)) {
          seen.add(outcome.key);
          next.push(longer);
        }
      }
    }
    frontier = next;
  }
  return {
    drawn,
    taken: new Map(
      drawn.flatMap((name) => (taken.has(name) ? [[name, taken.get(name) ?? []] as const] : [])),
    ),
    untaken: drawn.filter((name) => !taken.has(name)),
    undrawn: [...undrawn],
  };
}

interface Outcome {
  /** The actor's state, context and pending timers: equal keys behave alike from here on. */
  readonly key: string;
  readonly active: boolean;
  /** The last step did something (an event was handled or a timer fired). */
  readonly moved: boolean;
  /** Transitions taken by the last step (by the start, for the empty path), named as drawn. */
  readonly transitions: readonly string[];
}

function play<TMachine extends AnyStateMachine>(
  options: WalkOptions<TMachine>,
  path: readonly Step<EventFromLogic<TMachine>>[],
): Outcome {
  const clock = new StepClock();
  let transitions: string[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type !== "@xstate.microstep") return;
    for (const transition of (event as { _transitions?: readonly TakenTransition[] })._transitions ?? []) {
      transitions.push(...namesOf(transition));
    }
  };
  const actor: Actor<AnyStateMachine> = createActor(options.machine, {
    input: options.input,
    clock,
    inspect,
  });
  // An actor whose action throws ends in `error`; the walk treats it as a dead end, not a crash.
  actor.subscribe({ error: () => {} });
  actor.start();
  let moved = true;
  for (const step of path) {
    if (actor.getSnapshot().status !== "active") break;
    transitions = [];
    const before = actor.getSnapshot();
    if (step.kind === "time") clock.fireNext();
    else actor.send(step.event);
    moved = transitions.length > 0 || actor.getSnapshot() !== before;
  }
  const snapshot = actor.getSnapshot();
  const key = JSON.stringify([snapshot.status, snapshot.value, snapshot.context, clock.pending()]);
  actor.stop();
  return { key, active: snapshot.status === "active", moved, transitions };
}

function describe<E>(step: Step<E>): string {
  if (step.kind === "time") return "(time passes to the next timer)";
  const { type, ...payload } = step.event as { type: string };
  return Object.keys(payload).length === 0 ? type : `${type} ${JSON.stringify(payload)}`;
}

/** What XState's inspection reports of a transition it took. */
interface TakenTransition {
  readonly source: { readonly id: string };
  readonly target?: readonly { readonly id: string }[];
  readonly eventType: string | null;
  readonly guard?: unknown;
  readonly reenter?: boolean;
}

/** A taken transition named as machine-graph.ts draws it (one name per target). */
function namesOf(transition: TakenTransition): string[] {
  // The initial transitions into a state's default children are not drawn as arrows.
  if (transition.eventType === null) return [];
  const source = transition.source.id;
  const targets =
    transition.target !== undefined && transition.target.length > 0 ? transition.target : undefined;
  const eventType = transition.eventType;
  const suffix = `.${source}`;
  const trigger: GraphTransition["trigger"] =
    eventType === ""
      ? { kind: "always" }
      : eventType.startsWith("xstate.after.") && eventType.endsWith(suffix)
        ? { kind: "after", delay: delayLabel(eventType.slice("xstate.after.".length, -suffix.length)) }
        : { kind: "event", event: eventType };
  return (targets ?? [{ id: source }]).map((target) =>
    edgeName({
      source,
      target: target.id,
      trigger,
      guard: guardName(transition.guard),
      targetless: targets === undefined,
      reenter: transition.reenter === true,
    }),
  );
}

const delayLabel = (delay: string) => (/^\d+$/.test(delay) ? `${delay}ms` : delay);

function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === "string") return guard;
  if (typeof guard === "object" && "type" in guard && typeof guard.type === "string") return guard.type;
  return "guard";
}

/** XState's clock interface on simulated time: `fireNext` jumps to the earliest timer and runs it. */
class StepClock {
  private now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { readonly dueAt: number; readonly callback: () => void }>();

  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.nextId++;
    this.timers.set(id, { dueAt: this.now + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimeout(id: number): void {
    this.timers.delete(id);
  }

  fireNext(): void {
    let first: [number, { readonly dueAt: number; readonly callback: () => void }] | undefined;
    for (const entry of this.timers)
      if (first === undefined || entry[1].dueAt < first[1].dueAt) first = entry;
    if (first === undefined) return;
    this.timers.delete(first[0]);
    this.now = first[1].dueAt;
    first[1].callback();
  }

  /** The time left on each pending timer, sorted. */
  pending(): number[] {
    return [...this.timers.values()].map((timer) => timer.dueAt - this.now).sort((a, b) => a - b);
  }
}
