import { assign, setup } from "xstate";
import {
  type BackoffPolicy,
  backoffDelayMs,
  heartbeatDelayMs,
  type Random,
  reconnectDelayMs,
} from "./backoff.js";

/**
 * The reference client's connection lifecycle (spec/client-contract.md "Client states"), exported so it can be
 * drawn: Disconnected → Connecting → Authenticating → Connected (sync only) → Syncing → Ready → Closing →
 * Disconnected. A refused upgrade (401, 403, ...) goes straight back to Disconnected. The machine decides
 * *when* (timers on the injected clock, reconnect policy); the client object (client.ts) provides the actions
 * that do the I/O on the socket, the way gateway/connection.ts drives actors/connection.
 *
 * - `connecting`: obtaining an access token from the token provider (refreshing it when told to).
 * - `authenticating`: the upgrade request carries the JWT (CL-01) and device id (CL-02); the server checks it
 *   and registers the connection; nothing is sent until `connection_established` (CL-03).
 * - `session`: two parallel regions — `phase` (connected → syncing → ready; sends go out only in `ready`,
 *   MS-07) and `heartbeat` (every `heartbeat_interval_ms` ±10% from `connection_established`, CL-04).
 * - `closing`: stop sending, flush acks (AK-04), close the socket; then Disconnected.
 * - `disconnected.waiting`: the planned reconnect delay (CL-05 server delay + jitter, or CL-06 backoff).
 * - `disconnected.idle`: offline and staying so (closed by the user, 403, revoked token, duplicate device).
 */
export const CLIENT_STATES = [
  "Disconnected",
  "Connecting",
  "Authenticating",
  "Connected",
  "Syncing",
  "Ready",
  "Closing",
] as const;
export type ClientStateName = (typeof CLIENT_STATES)[number];

/** CL-08: what a user interface shows. */
export type Connectivity = "connected" | "reconnecting" | "offline";

/** `connection_closing` reasons of spec/protocol.md §7. */
export const CLOSING_REASONS = [
  "server_shutdown",
  "idle_timeout",
  "rate_limited",
  "protocol_error",
  "duplicate_connection",
  "token_expired",
  "slow_consumer",
] as const;
export type ClosingReason = (typeof CLOSING_REASONS)[number];

/** Why the client itself ends a healthy session and reconnects. */
export type ClientReconnectReason = "slow_consumer" | "token_refresh" | "unauthorized";

export interface MachinePolicy {
  readonly backoff: BackoffPolicy;
  readonly random: Random;
  /** After `closeSocket`, the socket is terminated if the close handshake takes longer. */
  readonly closeTimeoutMs: number;
  /**
   * `duplicate_connection` means this device connected again elsewhere; reconnecting would evict that newer
   * connection and start a ping-pong, so by default the client stays offline (protocol §7 says reconnect).
   */
  readonly reconnectOnDuplicate: boolean;
}

export type ClientEvent =
  /** The user wants to be online (also a manual reconnect, which resets the backoff, protocol §11). */
  | { type: "CONNECT" }
  | { type: "TOKEN_READY" }
  /** The token provider could not produce a token (refresh refused): a new login is needed. */
  | { type: "TOKEN_FAILED"; message: string }
  | { type: "ESTABLISHED"; heartbeatIntervalMs: number }
  /** The upgrade was refused with an HTTP status and the body's `error` (protocol §3). */
  | { type: "REJECTED"; status: number; error: string; retryAfterMs?: number }
  | { type: "SYNC_STARTED" }
  | { type: "SYNC_COMPLETE" }
  | { type: "SERVER_CLOSING"; reason: string; reconnectDelayMs: number }
  | { type: "RECONNECT"; reason: ClientReconnectReason }
  | { type: "SOCKET_CLOSED"; code: number }
  | { type: "CLOSE" };

export interface ClientContext {
  readonly policy: MachinePolicy;
  /** Consecutive failed attempts; reset by `connection_established` or a manual CONNECT (protocol §11). */
  readonly attempt: number;
  /** Consecutive 401s: the first is retried at once with a refreshed token, later ones back off. */
  readonly unauthorizedStreak: number;
  readonly retry: boolean;
  readonly reconnectDelayMs: number;
  readonly forceRefresh: boolean;
  readonly socketOpen: boolean;
  readonly heartbeatIntervalMs: number;
  /** Why the client is (or last went) offline: a closing reason, an HTTP error, `closed`, `connection_lost`. */
  readonly lastReason: string | null;
}

const backoffPlan = (context: ClientContext, reason: string) => ({
  retry: true,
  reconnectDelayMs: backoffDelayMs(context.attempt, context.policy.backoff, context.policy.random),
  attempt: context.attempt + 1,
  lastReason: reason,
});

const stopPlan = (reason: string) => ({ retry: false, reconnectDelayMs: 0, lastReason: reason });

export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    input: {} as { policy: MachinePolicy },
  },
  actions: {
    /** Asks the token provider for a token (a fresh one when `forceRefresh`), then TOKEN_READY/TOKEN_FAILED. */
    obtainToken: (_, _params: { forceRefresh: boolean }) => {},
    /** Opens the WebSocket with `Authorization: Bearer` and `X-Device-ID` (CL-01, CL-02). */
    openSocket: () => {},
    /** Drops a socket whose upgrade is still in flight. */
    abortSocket: () => {},
    /** Starts syncing every known chat (RS-01); answers SYNC_STARTED, or SYNC_COMPLETE when none is known. */
    beginSync: () => {},
    sendHeartbeat: () => {},
    /** Sends the queued outbox (MS-07: held while connecting or syncing). */
    flushOutbox: () => {},
    /** CL-05: nothing more is sent on this socket (sends go back to the outbox). */
    stopSending: () => {},
    /** AK-04: pending acks go out before the socket closes. */
    flushAcks: () => {},
    closeSocket: () => {},
    terminateSocket: () => {},
    planServerClosing: assign(({ context, event }) => {
      if (event.type !== "SERVER_CLOSING") return {};
      if (event.reason === "duplicate_connection" && !context.policy.reconnectOnDuplicate) {
        return stopPlan(event.reason);
      }
      return {
        retry: true,
        reconnectDelayMs: reconnectDelayMs(event.reconnectDelayMs, context.policy.random),
        // token_expired: the next connect gets a fresh token first (protocol §3, §14).
        forceRefresh: event.reason === "token_expired",
        lastReason: event.reason,
      };
    }),
    planClientReconnect: assign(({ context, event }) => {
      if (event.type !== "RECONNECT") return {};
      // RS-03: after SLOW_CONSUMER reconnect and sync, but back off so a client that cannot keep up does not
      // hammer the gateway; a token refresh reconnects at once.
      if (event.reason === "slow_consumer")
        return { ...backoffPlan(context, event.reason), forceRefresh: false };
      return {
        retry: true,
        reconnectDelayMs: 0,
        forceRefresh: event.reason === "unauthorized",
        lastReason: event.reason,
      };
    }),
    planConnectionLost: assign(({ context }) => ({
      ...backoffPlan(context, "connection_lost"),
      socketOpen: false,
    })),
    planStop: assign(() => stopPlan("closed")),
    planRejection: assign(({ context, event }) => {
      if (event.type !== "REJECTED") return {};
      const reason = `${event.status} ${event.error}`;
      if (event.status === 401 && event.error !== "token_revoked") {
        // UNAUTHORIZED: refresh and reconnect without backoff (protocol §6), once; then back off.
        const streak = context.unauthorizedStreak + 1;
        if (streak === 1) {
          return {
            retry: true,
            reconnectDelayMs: 0,
            forceRefresh: true,
            unauthorizedStreak: streak,
            lastReason: reason,
          };
        }
        return { ...backoffPlan(context, reason), forceRefresh: true, unauthorizedStreak: streak };
      }
      if (event.status === 429) {
        return {
          retry: true,
          reconnectDelayMs:
            event.retryAfterMs ??
            backoffDelayMs(context.attempt, context.policy.backoff, context.policy.random),
          attempt: context.attempt + 1,
          lastReason: reason,
        };
      }
      if (event.status >= 500) return backoffPlan(context, reason);
      // 400 (a client bug), 401 token_revoked (log in again), 403 (never retried): stay offline.
      return stopPlan(reason);
    }),
  },
  guards: {
    shouldReconnect: ({ context }) => context.retry,
    reconnectNow: ({ context }) => context.retry && context.reconnectDelayMs <= 0,
    socketGone: ({ context }) => !context.socketOpen,
  },
  delays: {
    reconnect: ({ context }) => context.reconnectDelayMs,
    heartbeat: ({ context }) => heartbeatDelayMs(context.heartbeatIntervalMs, context.policy.random),
    closeTimeout: ({ context }) => context.policy.closeTimeoutMs,
  },
}).createMachine({
  id: "client",
  context: ({ input }) => ({
    policy: input.policy,
    attempt: 0,
    unauthorizedStreak: 0,
    retry: false,
    reconnectDelayMs: 0,
    forceRefresh: false,
    socketOpen: false,
    heartbeatIntervalMs: 30_000,
    lastReason: null,
  }),
  initial: "disconnected",
  states: {
    disconnected: {
      initial: "idle",
      on: {
        CONNECT: {
          target: "connecting",
          actions: assign({ attempt: 0, unauthorizedStreak: 0, retry: true }),
        },
      },
      states: {
        idle: {
          always: [
            // A zero delay (401 with a fresh token, a token refresh) reconnects at once, timer-free.
            { guard: "reconnectNow", target: "#client.connecting" },
            { guard: "shouldReconnect", target: "waiting" },
          ],
        },
        waiting: {
          after: { reconnect: "#client.connecting" },
          on: { CLOSE: { target: "idle", actions: "planStop" } },
        },
      },
    },
    connecting: {
      entry: { type: "obtainToken", params: ({ context }) => ({ forceRefresh: context.forceRefresh }) },
      on: {
        TOKEN_READY: { target: "authenticating", actions: assign({ forceRefresh: false }) },
        TOKEN_FAILED: {
          target: "disconnected",
          actions: assign(({ event }) => stopPlan(`auth_required: ${event.message}`)),
        },
        CLOSE: { target: "disconnected", actions: "planStop" },
      },
    },
    authenticating: {
      entry: "openSocket",
      on: {
        ESTABLISHED: {
          target: "session",
          actions: assign(({ event }) => ({
            attempt: 0,
            unauthorizedStreak: 0,
            socketOpen: true,
            heartbeatIntervalMs: event.heartbeatIntervalMs,
            lastReason: null,
          })),
        },
        REJECTED: { target: "disconnected", actions: "planRejection" },
        SOCKET_CLOSED: {
          target: "disconnected",
          actions: assign(({ context }) => backoffPlan(context, "connect_failed")),
        },
        CLOSE: { target: "disconnected", actions: ["abortSocket", "planStop"] },
      },
    },
    session: {
      type: "parallel",
      on: {
        SERVER_CLOSING: { target: "closing", actions: "planServerClosing" },
        RECONNECT: { target: "closing", actions: "planClientReconnect" },
        SOCKET_CLOSED: { target: "closing", actions: "planConnectionLost" },
        CLOSE: { target: "closing", actions: "planStop" },
      },
      states: {
        phase: {
          initial: "connected",
          states: {
            connected: {
              entry: "beginSync",
              on: { SYNC_STARTED: "syncing", SYNC_COMPLETE: "ready" },
            },
            syncing: { on: { SYNC_COMPLETE: "ready" } },
            ready: { entry: "flushOutbox" },
          },
        },
        heartbeat: {
          initial: "beating",
          states: {
            beating: {
              after: { heartbeat: { target: "beating", reenter: true, actions: "sendHeartbeat" } },
            },
          },
        },
      },
    },
    closing: {
      entry: ["stopSending", "flushAcks", "closeSocket"],
      always: { guard: "socketGone", target: "disconnected" },
      after: {
        closeTimeout: { target: "disconnected", actions: ["terminateSocket", assign({ socketOpen: false })] },
      },
      on: {
        SOCKET_CLOSED: { target: "disconnected", actions: assign({ socketOpen: false }) },
        // A user's close while a reconnect was planned cancels the reconnect.
        CLOSE: { actions: "planStop" },
      },
    },
  },
});

/** The contract's name for a snapshot value of `clientMachine`. */
export function contractStateOf(value: unknown): ClientStateName {
  if (value === "connecting") return "Connecting";
  if (value === "authenticating") return "Authenticating";
  if (value === "closing") return "Closing";
  if (typeof value === "object" && value !== null) {
    if ("disconnected" in value) return "Disconnected";
    if ("session" in value) {
      const phase = (value as { session: { phase?: string } }).session.phase;
      if (phase === "syncing") return "Syncing";
      if (phase === "ready") return "Ready";
      return "Connected";
    }
  }
  return "Disconnected";
}

/** CL-08: the three states a user interface shows. */
export function connectivityOf(state: ClientStateName, context: Pick<ClientContext, "retry">): Connectivity {
  if (state === "Connected" || state === "Syncing" || state === "Ready") return "connected";
  if (state === "Disconnected" && !context.retry) return "offline";
  return "reconnecting";
}
