import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { toDirectedGraph } from "xstate/graph";
import { actorLifecycleMachine } from "./actor-lifecycle.machine.js";
import { ManualClock } from "./clock.js";

const start = (clock = new ManualClock(0)) => {
  const actor = createActor(actorLifecycleMachine, {
    clock,
    input: { actorId: "chat_1", idleTimeoutMs: 1_000 },
  });
  actor.start();
  return actor;
};

describe("the ChatSequencer lifecycle machine", () => {
  it("can be drawn: every state and transition is reachable from its definition", () => {
    const graph = toDirectedGraph(actorLifecycleMachine);
    const states = graph.children.map((node) => node.stateNode.key);
    expect(states).toEqual(["activating", "ready", "draining", "passivated", "failed"]);
    const edges = graph.children.flatMap((node) =>
      node.edges.map((edge) => `${node.stateNode.key}->${edge.target.key}`),
    );
    expect(edges).toEqual(
      expect.arrayContaining([
        "activating->ready",
        "activating->failed",
        "ready->draining",
        "draining->passivated",
      ]),
    );
  });

  it("drains after the idle timeout of the injected clock, never while busy", () => {
    const clock = new ManualClock(0);
    const actor = start(clock);
    actor.send({ type: "ACTIVATED" });
    actor.send({ type: "WORK_STARTED" });
    clock.advance(5_000);
    expect(actor.getSnapshot().value).toEqual({ ready: "busy" });
    actor.send({ type: "WORK_DONE" });
    clock.advance(999);
    expect(actor.getSnapshot().value).toEqual({ ready: "idle" });
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe("draining");
    expect(actor.getSnapshot().context.drainReason).toBe("idle");
    actor.send({ type: "DRAINED" });
    expect(actor.getSnapshot().status).toBe("done");
  });

  it("records why it failed, from activation or from a crash", () => {
    const failedActivation = start();
    failedActivation.send({ type: "ACTIVATION_FAILED", reason: "storage down" });
    expect(failedActivation.getSnapshot().value).toBe("failed");
    expect(failedActivation.getSnapshot().context.failure).toBe("storage down");

    const crashed = start();
    crashed.send({ type: "ACTIVATED" });
    crashed.send({ type: "DRAIN", reason: "ownership_lost" });
    expect(crashed.getSnapshot().context.drainReason).toBe("ownership_lost");
    crashed.send({ type: "CRASHED", reason: "boom" });
    expect(crashed.getSnapshot().value).toBe("failed");
  });
});
