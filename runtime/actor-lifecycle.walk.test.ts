import { describe, expect, it } from "vitest";
import { walkMachine } from "../test/support/machine-walk.js";
import { actorLifecycleMachine } from "./actor-lifecycle.machine.js";

describe("the drawn actor lifecycle", () => {
  it("takes every drawn transition on a real actor, and no other", () => {
    const walk = walkMachine({
      machine: actorLifecycleMachine,
      input: { actorId: "chat_walk", idleTimeoutMs: 1_000 },
      events: {
        ACTIVATION_FAILED: [{ type: "ACTIVATION_FAILED", reason: "unreadable" }],
        CRASHED: [{ type: "CRASHED", reason: "boom" }],
        // Only an idle drain may be deferred: both reasons are tried.
        DRAIN: [
          { type: "DRAIN", reason: "ownership_lost" },
          { type: "DRAIN", reason: "shutdown" },
        ],
      },
    });
    expect(walk.untaken, "drawn transitions no path takes").toEqual([]);
    expect(walk.undrawn, "transitions taken that the drawing lacks").toEqual([]);
    expect(walk.taken.size).toBe(walk.drawn.length);
  });
});
