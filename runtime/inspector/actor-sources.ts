import type { LifecycleActor } from "../actor-host.js";
import type { ActorRegistry, Tap } from "./actor-registry.js";
import type { ActorKind } from "./machine-catalog.js";
import type { StateValueLike } from "./state-value.js";

/**
 * How each kind of live actor reaches the registry. Actor-host lifecycles are XState actors: their snapshots
 * are counted, and XState's inspection stream is opened only while someone watches one. Machines stepped by
 * a driver of their own (the gateway's connections) report every event through a SteppedActorReporter.
 */
export function hostLifecycles(
  registry: ActorRegistry,
  kind: ActorKind,
): (key: string, lifecycle: LifecycleActor) => void {
  return (key, lifecycle) => {
    const tap: Tap = (emit) => {
      const subscription = lifecycle.system.inspect((inspection) => {
        if (inspection.type !== "@xstate.snapshot" || inspection.actorRef !== lifecycle) return;
        const snapshot = inspection.snapshot as ReturnType<LifecycleActor["getSnapshot"]>;
        emit(inspection.event.type, snapshot.value as StateValueLike, snapshot.status !== "active");
      });
      return () => subscription.unsubscribe();
    };
    registry.added(kind, key, lifecycle.getSnapshot().value as StateValueLike, tap);
    lifecycle.subscribe({
      next: (snapshot) =>
        registry.stepped(kind, key, "", snapshot.value as StateValueLike, snapshot.status !== "active"),
      complete: () => registry.removed(kind, key),
      error: () => registry.removed(kind, key),
    });
  };
}

/** What the inspector learns of each actor whose machine is stepped by a driver (e.g. a connection's). */
export interface SteppedActorReporter {
  /** An actor exists, in the machine's initial state. */
  created(key: string, value: unknown): void;
  /**
   * The machine handled `event` (several joined by ` + ` when some were sent while it was busy) and is in
   * `value` now — the same object as before when nothing changed (snapshots are shared). `done`: final.
   */
  stepped(key: string, event: string, value: unknown, done: boolean): void;
}

export function steppedActors(registry: ActorRegistry, kind: ActorKind): SteppedActorReporter {
  return {
    created: (key, value) => registry.added(kind, key, value as StateValueLike),
    stepped: (key, event, value, done) => registry.stepped(kind, key, event, value as StateValueLike, done),
  };
}
