import { describe, expect, it } from "vitest";
import { walkMachine } from "../../test/support/machine-walk.js";
import { connectionMachine } from "./connection.machine.js";

describe("the drawn connection machine", () => {
  it("takes every drawn transition on a real actor, and no other", () => {
    const walk = walkMachine({
      machine: connectionMachine,
      input: { idleTimeoutMs: 1_000, slowConsumerGraceMs: 500, closeTimeoutMs: 200 },
      events: {
        // A token that expires before the idle timeout, and one that outlives it.
        ESTABLISHED: [
          { type: "ESTABLISHED", tokenTtlMs: 100 },
          { type: "ESTABLISHED", tokenTtlMs: 3_600_000 },
        ],
        CLOSE: [{ type: "CLOSE", reason: "server_shutdown" }],
      },
    });
    expect(walk.untaken, "drawn transitions no path takes").toEqual([]);
    expect(walk.undrawn, "transitions taken that the drawing lacks").toEqual([]);
    expect(walk.taken.size).toBe(walk.drawn.length);
  });
});
