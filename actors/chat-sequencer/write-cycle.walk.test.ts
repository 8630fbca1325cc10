import { describe, expect, it } from "vitest";
import { walkMachine } from "../../test/support/machine-walk.js";
import { writeCycleMachine } from "./write-cycle.machine.js";

describe("the drawn write cycle", () => {
  it("takes every drawn transition on a real actor, and no other", () => {
    const walk = walkMachine({
      machine: writeCycleMachine,
      // Two rounds: a first reload may commit again, a second one runs out of rounds.
      input: { maxRounds: 2 },
      events: {
        BATCH: [{ type: "BATCH", sends: 2 }],
        CHECKED: [
          { type: "CHECKED", fresh: 0 },
          { type: "CHECKED", fresh: 2 },
        ],
        RELOADED: [
          { type: "RELOADED", left: 0 },
          { type: "RELOADED", left: 1 },
        ],
        PUBLISH_QUEUED: [
          { type: "PUBLISH_QUEUED", left: 0 },
          { type: "PUBLISH_QUEUED", left: 1 },
        ],
      },
    });
    expect(walk.untaken, "drawn transitions no path takes").toEqual([]);
    expect(walk.undrawn, "transitions taken that the drawing lacks").toEqual([]);
    expect(walk.taken.size).toBe(walk.drawn.length);
  });
});
