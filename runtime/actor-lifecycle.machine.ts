import { assign, setup } from "xstate";

/**
 * The lifecycle of an actor of the actor host (./actor-host.ts), drawn as the chat sequencer's, whose actors
 * are the host's in ingest nodes (exported so it can be drawn). The host drives it: it
 * activates an actor on its first message, serves while `ready`, drains (finishes its mailbox, publishes its
 * outbox) when it has been idle for `idleTimeoutMs` or loses ownership, then passivates; an idle actor whose
 * outbox cannot be published yet goes back to `ready` and tries again later. A crash or a failed
 * activation ends in `failed`; the supervisor then discards the instance, and the next message activates a
 * fresh one from the database.
 */
const LIFECYCLE_STATES = ["activating", "ready", "draining", "passivated", "failed"] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export type LifecycleEvent =
  | { type: "ACTIVATED" }
  | { type: "ACTIVATION_FAILED"; reason: string }
  | { type: "WORK_STARTED" }
  | { type: "WORK_DONE" }
  | { type: "DRAIN"; reason: "ownership_lost" | "shutdown" }
  | { type: "DRAINED" }
  | { type: "DRAIN_DEFERRED" }
  | { type: "CRASHED"; reason: string };

export interface LifecycleContext {
  readonly actorId: string;
  readonly idleTimeoutMs: number;
  readonly failure: string | null;
  readonly drainReason: "idle" | "ownership_lost" | "shutdown" | null;
}

export const actorLifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as { actorId: string; idleTimeoutMs: number },
  },
  delays: {
    idleTimeout: ({ context }) => context.idleTimeoutMs,
  },
}).createMachine({
  id: "chatSequencer",
  context: ({ input }) => ({ ...input, failure: null, drainReason: null }),
  initial: "activating",
  states: {
    activating: {
      on: {
        ACTIVATED: "ready",
        ACTIVATION_FAILED: {
          target: "failed",
          actions: assign({ failure: ({ event }) => event.reason }),
        },
      },
    },
    ready: {
      initial: "idle",
      states: {
        idle: {
          after: {
            idleTimeout: {
              target: "#chatSequencer.draining",
              actions: assign({ drainReason: "idle" }),
            },
          },
          on: { WORK_STARTED: "busy" },
        },
        busy: { on: { WORK_DONE: "idle" } },
      },
      on: {
        DRAIN: {
          target: "draining",
          actions: assign({ drainReason: ({ event }) => event.reason }),
        },
        CRASHED: {
          target: "failed",
          actions: assign({ failure: ({ event }) => event.reason }),
        },
      },
    },
    draining: {
      on: {
        DRAINED: "passivated",
        // An idle actor that still has work it cannot finish now (an outbox while the log is down) stays.
        DRAIN_DEFERRED: {
          target: "ready",
          guard: ({ context }) => context.drainReason === "idle",
          actions: assign({ drainReason: null }),
        },
        CRASHED: {
          target: "failed",
          actions: assign({ failure: ({ event }) => event.reason }),
        },
      },
    },
    passivated: { type: "final" },
    failed: { type: "final" },
  },
});
