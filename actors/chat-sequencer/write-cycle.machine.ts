import { assign, setup } from "xstate";

/**
 * The write cycle of a ChatSequencer (D16), the machine that decides what the sequencer does next with a
 * batch: the sequencer performs the work of the state it is in (a check, a block put, a reload, …) and
 * reports the outcome as an event; the machine's transition names the next step and, where sends must be
 * refused, the named action that refuses them. Drawn in docs/machines/ and counted live in /inspector, so one
 * sees where in the write path each chat's batch is, not only whether its actor is busy.
 *
 * collecting → checking (membership and index, coalesced across the node) → committing (one conditional
 * put of a block at the tail) → acknowledging → indexing (records written behind the ack) → publishing
 * (handed to the ordered outbox) → committing the next block of the batch, or collecting again. A put that
 * is taken (another owner extended the chain) or whose outcome is unknown goes through reloading: every block
 * above the tail is read, the batch matched by client_message_id, the rest committed at the new tail.
 */
export const WRITE_CYCLE_STATES = [
  "collecting",
  "checking",
  "committing",
  "reloading",
  "acknowledging",
  "indexing",
  "publishing",
] as const;
export type WriteCycleState = (typeof WRITE_CYCLE_STATES)[number];

export type WriteCycleEvent =
  /** Sends arrived that memory does not answer. */
  | { type: "BATCH"; sends: number }
  /** Membership and index checked: `fresh` sends are new. */
  | { type: "CHECKED"; fresh: number }
  /** The chat's memory above indexed_through has no room (rule 5). */
  | { type: "FULL" }
  /** A reload is due before the next put (a read saw blocks above the tail). */
  | { type: "STALE" }
  | { type: "PUT_WRITTEN" }
  | { type: "PUT_TAKEN" }
  /** The put failed without an answer: whether it landed is unknown. */
  | { type: "PUT_FAILED" }
  /** The chain above the tail is read; `left` sends of the batch were not found in it. */
  | { type: "RELOADED"; left: number }
  | { type: "RELOAD_FAILED" }
  | { type: "ACKED" }
  | { type: "INDEX_QUEUED" }
  /** The block is in the outbox; `left` sends of the batch wait for the next block. */
  | { type: "PUBLISH_QUEUED"; left: number };

export interface WriteCycleContext {
  /** Reloads of this batch so far. */
  readonly rounds: number;
  readonly maxRounds: number;
  /** Whether the last put failed without an answer (then a reload that does not find it refuses the batch). */
  readonly putFailed: boolean;
}

export const writeCycleMachine = setup({
  types: {
    context: {} as WriteCycleContext,
    events: {} as WriteCycleEvent,
    input: {} as { maxRounds: number },
  },
  guards: {
    anyFresh: ({ event }) => event.type === "CHECKED" && event.fresh > 0,
    nothingLeft: ({ event }) =>
      (event.type === "RELOADED" || event.type === "PUBLISH_QUEUED") && event.left === 0,
    putFailed: ({ context }) => context.putFailed,
    roundsLeft: ({ context }) => context.rounds < context.maxRounds,
  },
  actions: {
    // Placeholders the sequencer implements: they refuse what is left of the batch.
    refuseFull: () => {},
    refuseContended: () => {},
    refuseStorageError: () => {},
  },
}).createMachine({
  id: "writeCycle",
  initial: "collecting",
  context: ({ input }) => ({ rounds: 0, maxRounds: input.maxRounds, putFailed: false }),
  states: {
    collecting: {
      entry: assign({ rounds: 0, putFailed: false }),
      on: { BATCH: "checking" },
    },
    checking: {
      on: {
        CHECKED: [{ guard: "anyFresh", target: "committing" }, { target: "collecting" }],
      },
    },
    committing: {
      on: {
        FULL: { target: "collecting", actions: "refuseFull" },
        STALE: "reloading",
        PUT_WRITTEN: "acknowledging",
        PUT_TAKEN: { target: "reloading", actions: assign({ putFailed: false }) },
        PUT_FAILED: { target: "reloading", actions: assign({ putFailed: true }) },
      },
    },
    reloading: {
      entry: assign({ rounds: ({ context }) => context.rounds + 1 }),
      on: {
        RELOADED: [
          { guard: "nothingLeft", target: "collecting" },
          { guard: "putFailed", target: "collecting", actions: "refuseStorageError" },
          { guard: "roundsLeft", target: "committing" },
          { target: "collecting", actions: "refuseContended" },
        ],
        RELOAD_FAILED: { target: "collecting", actions: "refuseStorageError" },
      },
    },
    acknowledging: { on: { ACKED: "indexing" } },
    indexing: { on: { INDEX_QUEUED: "publishing" } },
    publishing: {
      on: {
        PUBLISH_QUEUED: [{ guard: "nothingLeft", target: "collecting" }, { target: "committing" }],
      },
    },
  },
});
