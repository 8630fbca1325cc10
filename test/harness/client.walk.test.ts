import { describe, expect, it } from "vitest";
import { walkMachine } from "../support/machine-walk.js";
import { DEFAULT_BACKOFF } from "./backoff.js";
import { clientMachine } from "./client.machine.js";

describe("the drawn reference client machine", () => {
  it("takes every drawn transition on a real actor, and no other", () => {
    const walk = walkMachine({
      machine: clientMachine,
      input: {
        policy: {
          backoff: DEFAULT_BACKOFF,
          random: () => 0.5,
          closeTimeoutMs: 500,
          reconnectOnDuplicate: false,
        },
      },
      events: {
        TOKEN_FAILED: [{ type: "TOKEN_FAILED", message: "refresh refused" }],
        ESTABLISHED: [{ type: "ESTABLISHED", heartbeatIntervalMs: 30_000 }],
        // A 401 reconnects at once with a fresh token; a 503 backs off; a 403 stays offline.
        REJECTED: [
          { type: "REJECTED", status: 401, error: "unauthorized" },
          { type: "REJECTED", status: 503, error: "service_unavailable" },
          { type: "REJECTED", status: 403, error: "forbidden" },
        ],
        SERVER_CLOSING: [{ type: "SERVER_CLOSING", reason: "server_shutdown", reconnectDelayMs: 1_000 }],
        RECONNECT: [{ type: "RECONNECT", reason: "token_refresh" }],
        SOCKET_CLOSED: [{ type: "SOCKET_CLOSED", code: 1006 }],
      },
    });
    expect(walk.untaken, "drawn transitions no path takes").toEqual([]);
    expect(walk.undrawn, "transitions taken that the drawing lacks").toEqual([]);
    expect(walk.taken.size).toBe(walk.drawn.length);
  });
});
