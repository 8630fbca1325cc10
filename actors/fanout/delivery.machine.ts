import { setup } from "xstate";

/**
 * The lifecycle of one consumed `messages.persisted` record in a fanout worker (exported so it can be drawn),
 * and the place where the worker's decisions about it are made. The worker performs the work the machine
 * asks for with its named actions and reports each outcome as an event; the guards read the outcome and
 * choose the next step:
 *
 * - `received`: the record was read. One that is not an event is dead-lettered (`deadLettered`); a
 *   (chat_id, sequence) this worker already pushed, or that came earlier in the same batch, is skipped as a
 *   `duplicate` (a replay, D4); any other asks for its chat's members.
 * - `resolving`: members come from the membership cache (read-through to the durability plane). A chat without
 *   members is skipped (`no_members`); members that cannot be read hold the record (`held`): its batch is
 *   handed back uncommitted and the event log delivers it again, so nothing is lost while the durability
 *   plane is down.
 * - `routing`: each member's gateways come from the connection registry; when the registry cannot be read
 *   the record is broadcast to every live gateway instead, each filtering by its own connections (D7).
 *   A record whose members are on no gateway is skipped (`nobody_online`).
 * - `pushing`: the record's batched Deliver calls are made; it ends `done` once every online recipient was
 *   attempted, whatever the gateways answered (pushes are never retried, sync heals).
 *
 * A record that ended `done` or `skipped` is remembered, so a replay of it is not pushed again.
 *
 * The context is empty and the guards read only the events, so every record in the same state has the same
 * snapshot: a worker steps thousands of records a second through transitions computed once per distinct
 * (state, outcome) (./delivery-lifecycle.ts) instead of running an actor per record.
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

/** The outcomes the worker reports, each carrying what the guards need to decide. */
export type DeliveryEvent =
  /**
   * The record was read. `poison`: it is not a well-formed event of a known type. `seen`: this worker
   * already pushed its (chat_id, sequence), or an earlier record of the same batch carries it.
   */
  | { type: "CONSUMED"; poison: boolean; seen: boolean }
  /** The chat's members were read: `count` of them. */
  | { type: "MEMBERS"; count: number }
  | { type: "MEMBERS_UNAVAILABLE" }
  /** The connection registry cannot be read. */
  | { type: "ROUTING_UNAVAILABLE" }
  /** The members' gateways are known: `gateways` distinct gateways hold at least one online member. */
  | { type: "ROUTES"; gateways: number }
  /** Every Deliver call carrying the record was attempted. */
  | { type: "PUSHED" };

/** The work the machine asks of its worker (./delivery-lifecycle.ts lists them for the worker). */
export const DELIVERY_ACTIONS = [
  "deadLetter",
  "resolveMembers",
  "holdBatch",
  "lookUpRoutes",
  "broadcast",
  "push",
  "remember",
] as const;
export type DeliveryAction = (typeof DELIVERY_ACTIONS)[number];

/**
 * Actions are placeholders the worker executes (./delivery-lifecycle.ts maps each to the worker's effects):
 * the machine decides what happens to a record; the worker holds the I/O and batches it across records.
 */
export const deliveryMachine = setup({
  types: {
    events: {} as DeliveryEvent,
  },
  guards: {
    poison: ({ event }) => event.type === "CONSUMED" && event.poison,
    alreadyPushed: ({ event }) => event.type === "CONSUMED" && event.seen,
    noMembers: ({ event }) => event.type === "MEMBERS" && event.count === 0,
    nobodyOnline: ({ event }) => event.type === "ROUTES" && event.gateways === 0,
  },
  actions: {
    /** Writes the record to `dead_letters` with the reason it could not be read. */
    deadLetter: () => {},
    /** Reads the chat's members (one read per chat of the batch); answers MEMBERS or MEMBERS_UNAVAILABLE. */
    resolveMembers: () => {},
    /** Hands the record's batch back uncommitted: the event log delivers it again. */
    holdBatch: () => {},
    /** Looks up the members' gateways (one lookup for the batch); answers ROUTES or ROUTING_UNAVAILABLE. */
    lookUpRoutes: () => {},
    /** Takes every live gateway as the record's targets; answers ROUTES. */
    broadcast: () => {},
    /** Queues the record's deliveries for its gateways (paced for large chats); answers PUSHED. */
    push: () => {},
    /** Remembers the (chat_id, sequence) once the batch is committed, so a replay is skipped. */
    remember: () => {},
  },
}).createMachine({
  id: "delivery",
  initial: "received",
  states: {
    received: {
      on: {
        CONSUMED: [
          { guard: "poison", target: "deadLettered" },
          { guard: "alreadyPushed", target: "skipped.duplicate" },
          { target: "resolving" },
        ],
      },
    },
    resolving: {
      entry: "resolveMembers",
      on: {
        MEMBERS: [{ guard: "noMembers", target: "skipped.no_members" }, { target: "routing" }],
        MEMBERS_UNAVAILABLE: "held",
      },
    },
    routing: {
      entry: "lookUpRoutes",
      on: {
        // Stays in routing: the broadcast targets answer with ROUTES like a lookup does.
        ROUTING_UNAVAILABLE: { actions: "broadcast" },
        ROUTES: [{ guard: "nobodyOnline", target: "skipped.nobody_online" }, { target: "pushing" }],
      },
    },
    pushing: {
      entry: "push",
      on: { PUSHED: "done" },
    },
    done: { type: "final", entry: "remember" },
    skipped: {
      entry: "remember",
      // Every transition names its reason; XState still wants a default child.
      initial: "duplicate",
      states: {
        duplicate: { type: "final" },
        no_members: { type: "final" },
        nobody_online: { type: "final" },
      },
    },
    deadLettered: { type: "final", entry: "deadLetter" },
    held: { type: "final", entry: "holdBatch" },
  },
});
