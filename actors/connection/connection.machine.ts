import { assign, setup } from "xstate";

/**
 * The lifecycle of one WebSocket connection (exported so it can be drawn). The gateway drives it:
 * `authenticating` covers the upgrade request (token check, routing registration, the 101); `established`
 * serves frames while three timers and signals watch it in parallel — liveness (no heartbeat for the idle
 * timeout), flow (outbound buffer over 95% starts a grace period; under 80% ends it), and the token's expiry;
 * `closing` has sent `connection_closing` and waits for the close handshake, terminating the socket when it
 * takes too long; `closed` is final and releases the routing entry. Every timer runs on the injected clock.
 */
const CONNECTION_STATES = ["authenticating", "established", "closing", "closed"] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** Why the server closes (spec/protocol.md §7); `client` when the client closed first. */
export type CloseReason =
  | "server_shutdown"
  | "idle_timeout"
  | "rate_limited"
  | "protocol_error"
  | "duplicate_connection"
  | "token_expired"
  | "session_revoked"
  | "slow_consumer";

export type ConnectionEvent =
  /** Handshake done: `tokenTtlMs` until the token's `exp`. */
  | { type: "ESTABLISHED"; tokenTtlMs: number }
  | { type: "REJECTED" }
  | { type: "HEARTBEAT" }
  /** Outbound buffer reached the warning level (95%). */
  | { type: "BUFFER_HIGH" }
  /** Outbound buffer fell below the resume level (80%). */
  | { type: "BUFFER_RECOVERED" }
  /** A push did not fit at all (hard limit): close at once. */
  | { type: "BUFFER_OVERFLOW" }
  | { type: "CLOSE"; reason: CloseReason }
  | { type: "SOCKET_CLOSED" };

/**
 * Nothing per connection but the close reason: the timings are the gateway's, the same for every connection,
 * and the token's lifetime travels on the ESTABLISHED event. So snapshots of connections in the same state are
 * equal, and the driver (connection-driver.ts) shares one snapshot object between them.
 */
export interface ConnectionContext {
  readonly idleTimeoutMs: number;
  readonly slowConsumerGraceMs: number;
  readonly closeTimeoutMs: number;
  readonly closeReason: CloseReason | null;
}

export interface ConnectionInput {
  readonly idleTimeoutMs: number;
  readonly slowConsumerGraceMs: number;
  readonly closeTimeoutMs: number;
}

const closeWith = (reason: CloseReason) =>
  ({
    target: "#connection.closing",
    actions: { type: "setCloseReason", params: { reason } },
  }) as const;

/**
 * Actions are placeholders: the machine decides *when*; the connection object owns the socket and does the
 * I/O. The driver (connection-driver.ts) maps every action declared here to its handler, checked at compile
 * time, so an action added here does not build until the driver performs it.
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actions: {
    setCloseReason: assign({ closeReason: (_, params: { reason: CloseReason }) => params.reason }),
    /** Sends `error{SLOW_CONSUMER}` with the buffer's size and limit. */
    warnSlowConsumer: () => {},
    /** Sends `connection_closing{reason}`, releases the routing entry and starts the close handshake. */
    beginClose: (_, _params: { reason: CloseReason | null }) => {},
    /** The close handshake did not finish in time. */
    terminate: () => {},
    /** Drops the connection from the gateway's tables. */
    release: () => {},
  },
  delays: {
    idleTimeout: ({ context }) => context.idleTimeoutMs,
    slowConsumerGrace: ({ context }) => context.slowConsumerGraceMs,
    closeTimeout: ({ context }) => context.closeTimeoutMs,
    // Evaluated on entering `established`, i.e. with the ESTABLISHED event.
    tokenExpiry: ({ event }) => (event.type === "ESTABLISHED" ? Math.max(0, event.tokenTtlMs) : 0),
  },
}).createMachine({
  id: "connection",
  context: ({ input }) => ({ ...input, closeReason: null }),
  initial: "authenticating",
  states: {
    authenticating: {
      on: {
        ESTABLISHED: "established",
        REJECTED: "closed",
        SOCKET_CLOSED: "closed",
      },
    },
    established: {
      type: "parallel",
      after: { tokenExpiry: closeWith("token_expired") },
      on: {
        CLOSE: {
          target: "closing",
          actions: assign({ closeReason: ({ event }) => event.reason }),
        },
        BUFFER_OVERFLOW: closeWith("slow_consumer"),
        SOCKET_CLOSED: "closed",
      },
      states: {
        liveness: {
          initial: "alive",
          states: {
            alive: {
              after: { idleTimeout: closeWith("idle_timeout") },
              // Re-entering restarts the idle timer.
              on: { HEARTBEAT: { target: "alive", reenter: true } },
            },
          },
        },
        flow: {
          initial: "normal",
          states: {
            normal: { on: { BUFFER_HIGH: "slow" } },
            slow: {
              entry: "warnSlowConsumer",
              after: { slowConsumerGrace: closeWith("slow_consumer") },
              on: { BUFFER_RECOVERED: "normal" },
            },
          },
        },
      },
    },
    closing: {
      entry: { type: "beginClose", params: ({ context }) => ({ reason: context.closeReason }) },
      after: { closeTimeout: { target: "closed", actions: "terminate" } },
      on: { SOCKET_CLOSED: "closed" },
    },
    closed: { type: "final", entry: "release" },
  },
});
