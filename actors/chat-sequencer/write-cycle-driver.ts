import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { type WriteCycleEvent, type WriteCycleState, writeCycleMachine } from "./write-cycle.machine.js";

/** What the machine asks the sequencer to do besides moving on (its placeholder actions). */
export interface WriteCycleEffects {
  refuseFull(): void;
  refuseContended(): void;
  refuseStorageError(): void;
}

type Snapshot = SnapshotFrom<typeof writeCycleMachine>;

/** A computed transition: the snapshot after it and the names of its actions. */
interface Step {
  readonly next: Snapshot;
  readonly actions: readonly string[];
}

/**
 * Transitions by (snapshot, what the guards read of the event). Snapshots are immutable and the machine's
 * context holds only small counters, so every sequencer shares the same few dozen snapshots and one XState
 * `transition` (tens of microseconds) per distinct step instead of one per event.
 */
const steps = new WeakMap<Snapshot, Map<string, Step>>();
const initials = new Map<number, Snapshot>();

/** What of an event the machine reads: its type and whether anything is fresh or left. */
const stepKey = (event: WriteCycleEvent): string => {
  switch (event.type) {
    case "BATCH":
      return event.type;
    case "CHECKED":
      return `${event.type}:${event.fresh > 0}`;
    case "RELOADED":
    case "PUBLISH_QUEUED":
      return `${event.type}:${event.left > 0}`;
    default:
      return event.type;
  }
};

function step(snapshot: Snapshot, event: WriteCycleEvent): Step {
  let known = steps.get(snapshot);
  if (known === undefined) {
    known = new Map();
    steps.set(snapshot, known);
  }
  const key = stepKey(event);
  let found = known.get(key);
  if (found === undefined) {
    const [computed, actions] = transition(writeCycleMachine, snapshot, event);
    // Equal snapshots (same state and context) are one object, so the cache stays small.
    const next = canonical(computed);
    found = { next, actions: actions.map((action) => action.type) };
    known.set(key, found);
  }
  return found;
}

const canonicalSnapshots = new Map<string, Snapshot>();
function canonical(snapshot: Snapshot): Snapshot {
  const key = JSON.stringify([snapshot.value, snapshot.context]);
  const known = canonicalSnapshots.get(key);
  if (known !== undefined) return known;
  canonicalSnapshots.set(key, snapshot);
  return snapshot;
}

/**
 * Runs writeCycleMachine for one sequencer with XState's pure `transition` (no interpreted actor per chat):
 * each outcome the sequencer reports yields the next state, and the named actions of that transition are
 * executed on the sequencer's effects before `send` returns.
 */
export class WriteCycleDriver {
  private snapshot: Snapshot;

  constructor(
    private readonly effects: WriteCycleEffects,
    maxRounds: number,
  ) {
    let initial = initials.get(maxRounds);
    if (initial === undefined) {
      initial = canonical(initialTransition(writeCycleMachine, { maxRounds })[0]);
      initials.set(maxRounds, initial);
    }
    this.snapshot = initial;
  }

  get state(): WriteCycleState {
    return this.snapshot.value as WriteCycleState;
  }

  send(event: WriteCycleEvent): WriteCycleState {
    const { next, actions } = step(this.snapshot, event);
    this.snapshot = next;
    for (const action of actions) {
      if (action === "refuseFull") this.effects.refuseFull();
      else if (action === "refuseContended") this.effects.refuseContended();
      else if (action === "refuseStorageError") this.effects.refuseStorageError();
    }
    return this.state;
  }
}
