import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { actorLifecycleMachine } from "../actor-lifecycle.machine.js";
import { ManualClock } from "../clock.js";
import { ActorRegistry, type InspectionRecord } from "./actor-registry.js";
import { hostLifecycles } from "./actor-sources.js";

const KINDS = ["sequencer", "connection"];
const established = { established: { liveness: "alive", flow: "normal" } } as const;
const slow = { established: { liveness: "alive", flow: "slow" } } as const;

describe("the inspector's actor registry", () => {
  it("counts every active state node, ancestors included, and moves counts with each step", () => {
    const registry = new ActorRegistry(new ManualClock(), KINDS);
    registry.added("connection", "c1", "authenticating");
    registry.added("connection", "c2", "authenticating");
    registry.stepped("connection", "c1", "ESTABLISHED", established, false);
    registry.stepped("connection", "c2", "ESTABLISHED", established, false);
    registry.stepped("connection", "c2", "BUFFER_HIGH", slow, false);
    expect(registry.counts("connection")).toEqual({
      established: 2,
      "established.flow": 2,
      "established.flow.normal": 1,
      "established.flow.slow": 1,
      "established.liveness": 2,
      "established.liveness.alive": 2,
    });
    registry.stepped("connection", "c1", "SOCKET_CLOSED", "closed", true);
    expect(registry.counts("connection")).toEqual({
      established: 1,
      "established.flow": 1,
      "established.flow.slow": 1,
      "established.liveness": 1,
      "established.liveness.alive": 1,
    });
    expect(registry.ended("connection")).toEqual({ closed: 1 });
    expect(registry.size("connection")).toBe(1);
  });

  it("lists at most `limit` actors but counts every match, filtered by kind, state and key", () => {
    const registry = new ActorRegistry(new ManualClock(), KINDS);
    for (let i = 0; i < 5; i++) registry.added("connection", `conn_${i}`, established);
    registry.added("connection", "conn_slow", slow);
    registry.added("sequencer", "chat_1", { ready: "idle" });
    const listed = registry.list({ kind: "connection", state: "established.flow.normal", limit: 2 });
    expect(listed.total).toBe(5);
    expect(listed.actors).toHaveLength(2);
    expect(registry.list({ key: "slow", limit: 10 }).actors).toEqual([
      {
        kind: "connection",
        key: "conn_slow",
        state: "established.liveness.alive, established.flow.slow",
        watchable: true,
      },
    ]);
    expect(registry.list({ state: "ready.idle", limit: 10 }).actors.map((actor) => actor.key)).toEqual([
      "chat_1",
    ]);
  });

  it("streams only the watched actor's steps, and nothing once unwatched", () => {
    const clock = new ManualClock();
    const registry = new ActorRegistry(clock, KINDS);
    registry.added("connection", "c1", established);
    registry.added("connection", "c2", established);
    const seen: InspectionRecord[] = [];
    const unwatch = registry.watch("connection", "c1", (record) => seen.push(record));
    registry.stepped("connection", "c2", "HEARTBEAT", established, false);
    registry.stepped("connection", "c1", "HEARTBEAT", established, false);
    registry.stepped("connection", "c1", "BUFFER_HIGH", slow, false);
    unwatch();
    registry.stepped("connection", "c1", "BUFFER_RECOVERED", established, false);
    expect(seen.map(({ key, event, from, to, ended }) => ({ key, event, from, to, ended }))).toEqual([
      {
        key: "c1",
        event: "HEARTBEAT",
        from: "established.liveness.alive, established.flow.normal",
        to: "established.liveness.alive, established.flow.normal",
        ended: false,
      },
      {
        key: "c1",
        event: "BUFFER_HIGH",
        from: "established.liveness.alive, established.flow.normal",
        to: "established.liveness.alive, established.flow.slow",
        ended: false,
      },
    ]);
    expect(seen[0]?.at).toBe(clock.now());
  });

  it("opens XState inspection of a sequencer only while it is watched, through its final step", async () => {
    const registry = new ActorRegistry(new ManualClock(), KINDS);
    const lifecycle = createActor(actorLifecycleMachine, {
      clock: new ManualClock(),
      input: { actorId: "chat_1", idleTimeoutMs: 1_000 },
    });
    lifecycle.start();
    hostLifecycles(registry, "sequencer")("chat_1", lifecycle);
    lifecycle.send({ type: "ACTIVATED" });
    expect(registry.counts("sequencer")).toEqual({ ready: 1, "ready.idle": 1 });

    const seen: InspectionRecord[] = [];
    const unwatch = registry.watch("sequencer", "chat_1", (record) => seen.push(record));
    lifecycle.send({ type: "WORK_STARTED" });
    lifecycle.send({ type: "DRAIN", reason: "shutdown" });
    lifecycle.send({ type: "DRAINED" });
    await Promise.resolve();
    expect(
      seen.map(({ event, from, to, ended }) => `${event}: ${from} -> ${to}${ended ? " (ended)" : ""}`),
    ).toEqual([
      "WORK_STARTED: ready.idle -> ready.busy",
      "DRAIN: ready.busy -> draining",
      "DRAINED: draining -> passivated (ended)",
    ]);
    expect(registry.size("sequencer")).toBe(0);
    expect(registry.ended("sequencer")).toEqual({ passivated: 1 });
    unwatch();
  });
});

describe("the registry's kind-wide watches", () => {
  it("streams every actor of a kind, those created later too, and nothing once unwatched", () => {
    const registry = new ActorRegistry(new ManualClock(), KINDS);
    registry.added("connection", "c1", established);
    const seen: InspectionRecord[] = [];
    const unwatch = registry.watchKind("connection", (record) => seen.push(record));
    registry.stepped("connection", "c1", "HEARTBEAT", established, false);
    registry.added("connection", "c2", "authenticating");
    registry.stepped("connection", "c2", "ESTABLISHED", established, false);
    registry.added("sequencer", "chat_1", { ready: "idle" });
    registry.stepped("sequencer", "chat_1", "", { ready: "busy" }, false);
    unwatch();
    registry.stepped("connection", "c1", "BUFFER_HIGH", slow, false);
    expect(seen.map(({ key, event, to }) => `${key} ${event} ${to}`)).toEqual([
      "c1 HEARTBEAT established.liveness.alive, established.flow.normal",
      "c2 ESTABLISHED established.liveness.alive, established.flow.normal",
    ]);
  });

  it("opens the taps of a kind's actors only while the kind is watched, one per actor whoever listens", async () => {
    const registry = new ActorRegistry(new ManualClock(), KINDS);
    const lifecycles = ["chat_1", "chat_2"].map((key) => {
      const lifecycle = createActor(actorLifecycleMachine, {
        clock: new ManualClock(),
        input: { actorId: key, idleTimeoutMs: 1_000 },
      });
      lifecycle.start();
      hostLifecycles(registry, "sequencer")(key, lifecycle);
      lifecycle.send({ type: "ACTIVATED" });
      return lifecycle;
    });
    const [one, two] = lifecycles as [(typeof lifecycles)[number], (typeof lifecycles)[number]];
    expect(registry.openTaps("sequencer")).toBe(0);

    const single: string[] = [];
    const every: string[] = [];
    const unwatchOne = registry.watch("sequencer", "chat_1", (record) => single.push(record.event));
    expect(registry.openTaps("sequencer")).toBe(1);
    const unwatchKind = registry.watchKind("sequencer", (record) =>
      every.push(`${record.key} ${record.event}`),
    );
    expect(registry.openTaps("sequencer")).toBe(2);
    one.send({ type: "WORK_STARTED" });
    two.send({ type: "WORK_STARTED" });
    unwatchKind();
    // The single watch keeps its own tap; the other actor is back on its fast path.
    expect(registry.openTaps("sequencer")).toBe(1);
    one.send({ type: "WORK_DONE" });
    two.send({ type: "WORK_DONE" });
    unwatchOne();
    expect(registry.openTaps("sequencer")).toBe(0);
    await Promise.resolve();
    expect(every).toEqual(["chat_1 WORK_STARTED", "chat_2 WORK_STARTED"]);
    expect(single).toEqual(["WORK_STARTED", "WORK_DONE"]);
  });
});
