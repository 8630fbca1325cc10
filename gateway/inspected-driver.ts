import type { ConnectionEvent } from "../actors/connection/connection.machine.js";
import {
  ConnectionDriver,
  type ConnectionEffects,
  type SharedSnapshots,
} from "../actors/connection/connection-driver.js";
import type { Clock } from "../runtime/clock.js";
import type { ConnectionId } from "../runtime/ids.js";
import type { SteppedActorReporter } from "../runtime/inspector/actor-sources.js";

/** What the inspector learns of each connection's lifecycle machine (keyed by connection id). */
export type ConnectionInspector = SteppedActorReporter;

/**
 * The driver of an inspected connection: reports each event to the inspector once the machine has handled
 * it, with the events that event caused (run-to-completion) as one step, so the inspector never shows a state
 * the machine only passed through. Uninspected connections use the plain driver and pay nothing for this.
 */
export class InspectedDriver extends ConnectionDriver {
  private handling = false;
  private queued: string[] | undefined;

  constructor(
    shared: SharedSnapshots,
    clock: Clock,
    effects: ConnectionEffects,
    private readonly id: ConnectionId,
    private readonly inspector: ConnectionInspector,
  ) {
    super(shared, clock, effects);
    inspector.created(id, this.value);
  }

  override send(event: ConnectionEvent): void {
    if (this.handling) {
      // Queued by the driver and handled before the outer send returns: reported with it.
      this.queued ??= [];
      this.queued.push(event.type);
      super.send(event);
      return;
    }
    this.handling = true;
    try {
      super.send(event);
    } finally {
      this.handling = false;
    }
    const queued = this.queued;
    this.queued = undefined;
    const name = queued === undefined ? event.type : [event.type, ...queued].join(" + ");
    this.inspector.stepped(this.id, name, this.value, this.done);
  }
}
