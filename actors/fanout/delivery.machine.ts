import { setup } from "xstate";

/**
 * The lifecycle of one consumed `messages.persisted` record in a fanout worker (exported so it can be drawn).
 * A record is `received`, its chat's members are `resolving` (membership cache, read-through to the
 * durability plane), their gateways are `routing` (Redis, or every live gateway when routing is down), the
 * batched Deliver calls are `pushing`, and the record ends `done` (every online recipient was attempted,
 * whatever the gateways answered: pushes are never retried, sync heals) or `skipped`, the reason being the
 * final child state. A record that is not an event ends `deadLettered`. A record whose members cannot be read
 * is `held`: its batch is not committed and the event log delivers it again, so nothing is lost while the
 * durability plane is down.
 *
 * The machine has no guards, actions or timers: the worker decides (members or none, anyone online or not)
 * and sends the matching event, so the next state depends only on the current state and the event type, and
 * a worker steps hundreds of records per batch through a memoised table of this machine's own transitions
 * (./delivery-lifecycle.ts) instead of running an actor per record.
 */
export const DELIVERY_STATES = [
  "received",
  "resolving",
  "routing",
  "pushing",
  "done",
  "skipped",
  "deadLettered",
  "held",
] as const;
export type DeliveryMachineState = (typeof DELIVERY_STATES)[number];

/**
 * Why a record needed no push: this worker already pushed that (chat_id, sequence) (a replay, D4); the chat
 * has no members (an unknown chat); none of its members is online.
 */
export const SKIP_REASONS = ["duplicate", "no_members", "nobody_online"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** `routed`: each member's gateways from the connection registry; `broadcast`: routing was down (D7). */
export type RouteMode = "routed" | "broadcast";

export type DeliveryEvent =
  | { type: "DUPLICATE" }
  | { type: "POISON" }
  | { type: "RESOLVE" }
  | { type: "MEMBERS_RESOLVED" }
  | { type: "NO_MEMBERS" }
  | { type: "MEMBERS_UNAVAILABLE" }
  | { type: "ROUTED" }
  | { type: "NOBODY_ONLINE" }
  | { type: "PUSHED" };

export const deliveryMachine = setup({
  types: {
    context: {} as { readonly chatId: string; readonly sequence: number },
    events: {} as DeliveryEvent,
    input: {} as { chatId: string; sequence: number },
  },
}).createMachine({
  id: "delivery",
  context: ({ input }) => input,
  initial: "received",
  states: {
    received: {
      on: {
        RESOLVE: "resolving",
        DUPLICATE: "skipped.duplicate",
        POISON: "deadLettered",
      },
    },
    resolving: {
      on: {
        MEMBERS_RESOLVED: "routing",
        NO_MEMBERS: "skipped.no_members",
        MEMBERS_UNAVAILABLE: "held",
      },
    },
    routing: {
      on: {
        ROUTED: "pushing",
        NOBODY_ONLINE: "skipped.nobody_online",
      },
    },
    pushing: { on: { PUSHED: "done" } },
    done: { type: "final" },
    skipped: {
      // Every transition names its reason; XState still wants a default child.
      initial: "duplicate",
      states: {
        duplicate: { type: "final" },
        no_members: { type: "final" },
        nobody_online: { type: "final" },
      },
    },
    deadLettered: { type: "final" },
    held: { type: "final" },
  },
});
