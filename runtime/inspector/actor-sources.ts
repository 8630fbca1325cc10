import type { ConnectionInspector } from "../../gateway/connection.js";
import type { LifecycleActor } from "../actor-host.js";
import type { ActorRegistry, Tap } from "./actor-registry.js";
import type { StateValueLike } from "./state-value.js";

/**
 * How each kind of live actor reaches the registry. Sequencer lifecycles are XState actors: their snapshots
 * are counted, and XState's inspection stream is opened only while someone watches one. Connection machines
 * are stepped by the gateway's driver, which reports every event (the hook of gateway/connection.ts).
 */
export function sequencerLifecycles(
  registry: ActorRegistry,
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
    registry.added("sequencer", key, lifecycle.getSnapshot().value as StateValueLike, tap);
    lifecycle.subscribe({
      next: (snapshot) =>
        registry.stepped(
          "sequencer",
          key,
          "",
          snapshot.value as StateValueLike,
          snapshot.status !== "active",
        ),
      complete: () => registry.removed("sequencer", key),
      error: () => registry.removed("sequencer", key),
    });
  };
}

export function connectionInspector(registry: ActorRegistry): ConnectionInspector {
  return {
    created: (connectionId, value) => registry.added("connection", connectionId, value as StateValueLike),
    stepped: (connectionId, event, value, done) =>
      registry.stepped("connection", connectionId, event, value as StateValueLike, done),
  };
}
