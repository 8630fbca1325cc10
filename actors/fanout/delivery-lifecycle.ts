import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { AppError } from "../../runtime/errors.js";
import {
  DELIVERY_ACTIONS,
  DELIVERY_STATES,
  type DeliveryAction,
  type DeliveryEvent,
  type DeliveryMachineState,
  deliveryMachine,
  SKIP_REASONS,
  type SkipReason,
} from "./delivery.machine.js";

/** What every record handed to the machine names: the inspector shows it as `<chat>:<sequence>`. */
export interface DeliveryRecord {
  readonly chatId: string;
  readonly sequence: number;
}

/** The work deliveryMachine asks of its worker, one method per named action, each for one record. */
export type DeliveryEffects<R extends DeliveryRecord> = {
  readonly [A in DeliveryAction]: (lifecycle: DeliveryLifecycle<R>) => void;
};

type Snapshot = SnapshotFrom<typeof deliveryMachine>;

/** A state of the machine as records share it: the snapshot, its names, and the steps computed from it. */
interface Place {
  readonly snapshot: Snapshot;
  /** The dotted state path, e.g. `routing` or `skipped.nobody_online`. */
  readonly path: string;
  readonly state: DeliveryMachineState;
  readonly skipReason: SkipReason | undefined;
  readonly steps: Map<string, Step>;
}

/** A computed transition: where it leads and the actions it asks for, in XState's order. */
interface Step {
  readonly to: Place;
  readonly actions: readonly DeliveryAction[];
}

const places = new Map<string, Place>();

/** One Place per distinct snapshot: the machine's context is empty, so the state value identifies it. */
function placeOf(snapshot: Snapshot): Place {
  const path = pathOf(snapshot.value);
  let place = places.get(path);
  if (place === undefined) {
    const [state, reason] = path.split(".");
    place = {
      snapshot,
      path,
      state: state as DeliveryMachineState,
      skipReason: state === "skipped" ? (reason as SkipReason) : undefined,
      steps: new Map(),
    };
    places.set(path, place);
  }
  return place;
}

/** `skipped.duplicate` for `{ skipped: "duplicate" }`. */
function pathOf(value: Snapshot["value"]): string {
  if (typeof value === "string") return value;
  const [key, child] = Object.entries(value)[0] ?? ["", undefined];
  return child === undefined ? key : `${key}.${pathOf(child as Snapshot["value"])}`;
}

function actionsOf(actions: readonly { type: string }[]): DeliveryAction[] {
  return actions.map(({ type }) => {
    if (!(DELIVERY_ACTIONS as readonly string[]).includes(type)) {
      throw new AppError("INTERNAL_ERROR", `the delivery machine asked for an unknown action: ${type}`);
    }
    return type as DeliveryAction;
  });
}

/**
 * What of an event the machine's guards read (./delivery.machine.ts): its type and, for the outcomes the
 * guards look into, the facts they test. Two events with the same key take the same transition.
 */
function stepKey(event: DeliveryEvent): string {
  switch (event.type) {
    case "CONSUMED":
      return event.poison ? "CONSUMED:poison" : event.seen ? "CONSUMED:seen" : "CONSUMED";
    case "MEMBERS":
      return event.count === 0 ? "MEMBERS:none" : "MEMBERS";
    case "ROUTES":
      return event.gateways === 0 ? "ROUTES:none" : "ROUTES";
    case "MEMBERS_UNAVAILABLE":
    case "ROUTING_UNAVAILABLE":
    case "PUSHED":
      return event.type;
  }
}

function step(place: Place, event: DeliveryEvent): Step {
  const key = stepKey(event);
  let found = place.steps.get(key);
  if (found === undefined) {
    const [next, actions] = transition(deliveryMachine, place.snapshot, event);
    found = { to: placeOf(next), actions: actionsOf(actions) };
    place.steps.set(key, found);
  }
  return found;
}

const [initialSnapshot, initialActions] = initialTransition(deliveryMachine);
const initial: Step = { to: placeOf(initialSnapshot), actions: actionsOf(initialActions) };

/**
 * One record driven by deliveryMachine. Each outcome the worker reports goes through the machine's own
 * transition, computed by XState's pure `transition` once per distinct (state, what the guards read) and
 * then looked up: a map lookup per step instead of XState's full microstep per record (measured ~0.1-0.8 ms
 * per record, the largest cost of a batch). The actions of the step are executed on the worker's effects
 * before `send` returns, in the machine's order.
 */
export class DeliveryLifecycle<R extends DeliveryRecord = DeliveryRecord> {
  private place: Place;

  constructor(
    readonly record: R,
    private readonly effects: DeliveryEffects<R>,
  ) {
    this.place = initial.to;
    this.run(initial.actions);
  }

  send(event: DeliveryEvent): string {
    const next = step(this.place, event);
    this.place = next.to;
    this.run(next.actions);
    return this.place.path;
  }

  /** The dotted state path, e.g. `routing` or `skipped.nobody_online`. */
  get path(): string {
    return this.place.path;
  }

  get state(): DeliveryMachineState {
    return this.place.state;
  }

  get skipReason(): SkipReason | undefined {
    return this.place.skipReason;
  }

  private run(actions: readonly DeliveryAction[]): void {
    for (const action of actions) this.effects[action](this);
  }
}

/** How many records ended in each final state, and why records were skipped: metrics. */
export class DeliveryCounters {
  readonly ended: Record<DeliveryMachineState, number> = Object.fromEntries(
    DELIVERY_STATES.map((state) => [state, 0]),
  ) as Record<DeliveryMachineState, number>;
  readonly skipped: Record<SkipReason, number> = Object.fromEntries(
    SKIP_REASONS.map((reason) => [reason, 0]),
  ) as Record<SkipReason, number>;

  record(lifecycle: Pick<DeliveryLifecycle, "state" | "skipReason">): void {
    this.ended[lifecycle.state]++;
    const reason = lifecycle.skipReason;
    if (reason !== undefined) this.skipped[reason]++;
  }
}
