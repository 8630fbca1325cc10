import { initialTransition, type SnapshotFrom, transition } from "xstate";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import {
  type CloseReason,
  type ConnectionEvent,
  type ConnectionInput,
  connectionMachine,
} from "./connection.machine.js";

/** What the machine asks its connection to do (the machine's placeholder actions). */
export interface ConnectionEffects {
  warnSlowConsumer(): void;
  beginClose(reason: CloseReason): void;
  terminate(): void;
  release(): void;
}

type Snapshot = SnapshotFrom<typeof connectionMachine>;

/** Every action name the machine declares in `setup({ actions })`, read from the machine's own type. */
export type ConnectionActionName = keyof NonNullable<
  Parameters<typeof connectionMachine.provide>[0]["actions"]
>;

/**
 * XState's built-ins the machine's definition holds: `after` becomes a delayed `xstate.raise` on entry and an
 * `xstate.cancel` on exit; `xstate.assign` is an inline `assign`.
 */
type BuiltInActionName = "xstate.raise" | "xstate.cancel" | "xstate.assign";

type ActionParams = Readonly<Record<string, unknown>> | undefined;
type ActionHandler = (driver: ConnectionDriver, params: ActionParams) => void;
type RaiseParams = { event: ConnectionEvent; id?: string; delay?: number };

/** Assigns change only context, which `transition` has already written into the next snapshot. */
const appliedByTransition: ActionHandler = () => {};

/**
 * Runs connectionMachine for one connection with XState's pure `transition` function instead of one
 * interpreted actor per connection: a gateway holds tens of thousands of idle connections, and an actor costs
 * several KiB each while a snapshot shared by every connection in the same state costs nothing. Semantics are
 * the machine's own: `transition` computes the next snapshot and the actions, and this driver executes each
 * through `actionHandlers` — delayed events (`after`) become timers on the injected clock, cancelled when
 * XState says so; the machine's named actions call the connection's effects; an action without a handler throws. Events sent while one is being processed are queued
 * (run-to-completion, as an actor would).
 */
export class ConnectionDriver {
  private snapshot: Snapshot;
  /** Pending `after` timers, flat: id, handle, id, handle... (at most three at a time; one array, no pairs). */
  private timers: Array<string | TimerHandle> | undefined;
  private queue: ConnectionEvent[] | undefined;
  private busy = false;

  constructor(
    private readonly shared: SharedSnapshots,
    private readonly clock: Clock,
    private readonly effects: ConnectionEffects,
  ) {
    this.snapshot = shared.initial;
  }

  /** The state value: `authenticating`, `{ established: { liveness, flow } }`, `closing`, `closed`. */
  get value(): Snapshot["value"] {
    return this.snapshot.value;
  }

  matches(state: "authenticating" | "established" | "closing" | "closed"): boolean {
    return this.snapshot.matches(state);
  }

  get done(): boolean {
    return this.snapshot.status === "done";
  }

  send(event: ConnectionEvent): void {
    if (this.busy) {
      this.enqueue(event);
      return;
    }
    this.busy = true;
    try {
      this.step(event);
      for (let next = this.queue?.shift(); next !== undefined; next = this.queue?.shift()) this.step(next);
    } finally {
      this.busy = false;
    }
  }

  private enqueue(event: ConnectionEvent): void {
    this.queue ??= [];
    this.queue.push(event);
  }

  private step(event: ConnectionEvent): void {
    if (this.snapshot.status === "done") return;
    const [next, actions] = transition(connectionMachine, this.snapshot, event);
    this.snapshot = this.shared.intern(next);
    for (const action of actions) {
      ConnectionDriver.handlerOf(action.type)(this, action.params as ActionParams);
    }
    if (this.snapshot.status === "done") this.clearTimers();
  }

  /**
   * What the driver does for each action of the machine: every name its `setup({ actions })` declares and the
   * built-ins its definition uses. The `satisfies` makes the map exhaustive at compile time: a new or renamed
   * action in connection.machine.ts does not build until it has a handler here.
   */
  static readonly actionHandlers = {
    "xstate.raise": (driver, params) => driver.raise(params as unknown as RaiseParams),
    "xstate.cancel": (driver, params) => driver.cancel(String(params?.sendId)),
    "xstate.assign": appliedByTransition,
    setCloseReason: appliedByTransition,
    warnSlowConsumer: (driver) => driver.effects.warnSlowConsumer(),
    beginClose: (driver, params) =>
      driver.effects.beginClose((params?.reason as CloseReason | null) ?? "server_shutdown"),
    terminate: (driver) => driver.effects.terminate(),
    release: (driver) => driver.effects.release(),
  } satisfies Record<ConnectionActionName | BuiltInActionName, ActionHandler>;

  /**
   * The handler of an action `transition` handed back. Anything without one (a built-in a new XState version
   * starts emitting, an inline action added to the machine) throws: an action silently skipped would leave a
   * socket open or a routing entry behind with nothing to show for it.
   */
  static handlerOf(type: string): ActionHandler {
    const handlers: Readonly<Record<string, ActionHandler>> = ConnectionDriver.actionHandlers;
    if (Object.hasOwn(handlers, type)) return handlers[type] as ActionHandler;
    throw new AppError(
      "INTERNAL_ERROR",
      `connectionMachine emitted the action "${type}", which has no handler`,
      {
        public: false,
      },
    );
  }

  private raise(params: RaiseParams): void {
    if (params.delay === undefined) {
      this.enqueue(params.event);
      return;
    }
    const id = params.id ?? "";
    this.cancel(id);
    const handle = this.clock.setTimeout(() => {
      this.forget(id);
      this.send(params.event);
    }, params.delay);
    this.timers ??= [];
    this.timers.push(id, handle);
  }

  private cancel(id: string): void {
    const timers = this.timers;
    const index = timers?.indexOf(id) ?? -1;
    if (timers === undefined || index < 0) return;
    this.clock.clearTimeout(timers[index + 1] as TimerHandle);
    timers.splice(index, 2);
  }

  private forget(id: string): void {
    const index = this.timers?.indexOf(id) ?? -1;
    if (index >= 0) this.timers?.splice(index, 2);
  }

  private clearTimers(): void {
    const timers = this.timers ?? [];
    for (let i = 1; i < timers.length; i += 2) this.clock.clearTimeout(timers[i] as TimerHandle);
    this.timers = undefined;
  }
}

/**
 * The snapshots of one gateway's connections, one object per distinct (state, close reason): snapshots are
 * immutable and context holds nothing per connection, so equal states can share one object.
 */
export class SharedSnapshots {
  readonly initial: Snapshot;
  private readonly byKey = new Map<string, Snapshot>();

  constructor(input: ConnectionInput) {
    [this.initial] = initialTransition(connectionMachine, input);
  }

  intern(snapshot: Snapshot): Snapshot {
    const key = `${JSON.stringify(snapshot.value)}|${snapshot.context.closeReason}|${snapshot.status}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    this.byKey.set(key, snapshot);
    return snapshot;
  }
}
