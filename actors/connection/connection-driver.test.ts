import { describe, expect, it } from "vitest";
import { initialTransition, transition } from "xstate";
import { ManualClock } from "../../runtime/clock.js";
import { type CloseReason, type ConnectionEvent, connectionMachine } from "./connection.machine.js";
import { ConnectionDriver, type ConnectionEffects, SharedSnapshots } from "./connection-driver.js";

const INPUT = { idleTimeoutMs: 60_000, slowConsumerGraceMs: 5_000, closeTimeoutMs: 5_000 };

class Recorder implements ConnectionEffects {
  readonly calls: string[] = [];
  onClose: (() => void) | undefined;
  warnSlowConsumer() {
    this.calls.push("warnSlowConsumer");
  }
  beginClose(reason: CloseReason) {
    this.calls.push(`beginClose:${reason}`);
    this.onClose?.();
  }
  terminate() {
    this.calls.push("terminate");
  }
  release() {
    this.calls.push("release");
  }
}

function established(shared = new SharedSnapshots(INPUT), tokenTtlMs = 3_600_000) {
  const clock = new ManualClock();
  const effects = new Recorder();
  const driver = new ConnectionDriver(shared, clock, effects);
  driver.send({ type: "ESTABLISHED", tokenTtlMs });
  return { clock, effects, driver, shared };
}

describe("ConnectionDriver (connectionMachine run with pure transitions)", () => {
  it("runs the machine's `after` timers on the injected clock and cancels them when XState exits their state", () => {
    const { clock, effects, driver } = established();
    expect(clock.pendingTimers).toBe(2);
    clock.advance(30_000);
    driver.send({ type: "HEARTBEAT" });
    expect(clock.pendingTimers).toBe(2);
    clock.advance(59_999);
    expect(effects.calls).toEqual([]);
    clock.advance(1);
    expect(effects.calls).toEqual(["beginClose:idle_timeout"]);
    expect(driver.matches("closing")).toBe(true);
    // Entering `closing` cancelled the token timer and armed the close timeout.
    expect(clock.pendingTimers).toBe(1);
    driver.send({ type: "SOCKET_CLOSED" });
    expect(effects.calls).toEqual(["beginClose:idle_timeout", "release"]);
    expect(driver.done).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("connections in the same state share one snapshot object", () => {
    const shared = new SharedSnapshots(INPUT);
    const a = established(shared);
    const b = established(shared);
    expect(a.driver.value).toBe(b.driver.value);
    a.driver.send({ type: "BUFFER_HIGH" });
    b.driver.send({ type: "BUFFER_HIGH" });
    expect(a.driver.value).toEqual({ established: { liveness: "alive", flow: "slow" } });
    expect(a.driver.value).toBe(b.driver.value);
  });

  it("events sent from inside an effect run after the current one (run-to-completion)", () => {
    const { effects, driver } = established();
    effects.onClose = () => driver.send({ type: "SOCKET_CLOSED" });
    driver.send({ type: "CLOSE", reason: "server_shutdown" });
    expect(effects.calls).toEqual(["beginClose:server_shutdown", "release"]);
    expect(driver.done).toBe(true);
  });

  it("ignores events once closed", () => {
    const { effects, driver } = established();
    driver.send({ type: "SOCKET_CLOSED" });
    driver.send({ type: "CLOSE", reason: "rate_limited" });
    driver.send({ type: "HEARTBEAT" });
    expect(effects.calls).toEqual(["release"]);
  });

  it("slow consumer grace, recovery and the token's expiry behave as in the interpreted machine", () => {
    const { clock, effects, driver } = established(undefined, 20_000);
    driver.send({ type: "BUFFER_HIGH" });
    clock.advance(4_000);
    driver.send({ type: "BUFFER_RECOVERED" });
    clock.advance(10_000);
    expect(effects.calls).toEqual(["warnSlowConsumer"]);
    clock.advance(6_000);
    expect(effects.calls).toEqual(["warnSlowConsumer", "beginClose:token_expired"]);
    clock.advance(5_000);
    expect(effects.calls).toEqual(["warnSlowConsumer", "beginClose:token_expired", "terminate", "release"]);
  });
});

/** The type of every action a state node of the definition holds: entry, exit, transitions, `after`. */
function definedActionTypes(): Set<string> {
  type Action = string | { type?: string; name?: string };
  interface Node {
    entry: Action[];
    exit: Action[];
    transitions: Map<string, Array<{ actions: Action[] }>>;
    states: Record<string, Node>;
  }
  const types = new Set<string>();
  const add = (action: Action) =>
    types.add(typeof action === "string" ? action : (action.type ?? action.name ?? "anonymous"));
  const visit = (node: Node) => {
    for (const action of [...node.entry, ...node.exit]) add(action);
    for (const candidates of node.transitions.values())
      for (const candidate of candidates) for (const action of candidate.actions) add(action);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(connectionMachine.root as unknown as Node);
  return types;
}

/** Every action `transition` hands back from every reachable state for every event, delayed ones included. */
function emittedActionTypes(): Set<string> {
  const events: ConnectionEvent[] = [
    { type: "ESTABLISHED", tokenTtlMs: 1_000 },
    { type: "REJECTED" },
    { type: "HEARTBEAT" },
    { type: "BUFFER_HIGH" },
    { type: "BUFFER_RECOVERED" },
    { type: "BUFFER_OVERFLOW" },
    { type: "CLOSE", reason: "rate_limited" },
    { type: "SOCKET_CLOSED" },
  ];
  const types = new Set<string>();
  const [initial, entryActions] = initialTransition(connectionMachine, INPUT);
  for (const action of entryActions) types.add(action.type);
  const seen = new Set<string>();
  const frontier = [initial];
  for (let snapshot = frontier.pop(); snapshot !== undefined; snapshot = frontier.pop()) {
    const key = `${JSON.stringify(snapshot.value)}|${snapshot.context.closeReason}`;
    if (seen.has(key) || snapshot.status === "done") continue;
    seen.add(key);
    for (const event of events) {
      const [next, actions] = transition(connectionMachine, snapshot, event);
      frontier.push(next);
      for (const action of actions) {
        types.add(action.type);
        // A delayed event fires later: fed back in, so what its transition emits is covered too.
        const raised = (action.params as { event?: ConnectionEvent } | undefined)?.event;
        if (action.type === "xstate.raise" && raised !== undefined && !events.includes(raised))
          events.push(raised);
      }
    }
  }
  return types;
}

describe("the driver's action handlers", () => {
  const handled = Object.keys(ConnectionDriver.actionHandlers).sort();

  it("every action the machine's setup declares has a handler", () => {
    const declared = Object.keys(connectionMachine.implementations.actions);
    expect(declared.length).toBeGreaterThan(0);
    for (const name of declared) expect(handled, name).toContain(name);
  });

  it("every action of the machine's definition has a handler, XState's built-ins included", () => {
    const defined = definedActionTypes();
    expect(defined).toContain("beginClose");
    for (const type of defined) expect(handled, type).toContain(type);
  });

  it("every action `transition` emits in any reachable state, delayed events included, has a handler", () => {
    const emitted = emittedActionTypes();
    expect(emitted).toEqual(
      new Set(["xstate.raise", "xstate.cancel", "warnSlowConsumer", "beginClose", "terminate", "release"]),
    );
    for (const type of emitted) expect(() => ConnectionDriver.handlerOf(type), type).not.toThrow();
  });

  it("an action without a handler throws an internal AppError naming it, never passes silently", () => {
    for (const type of ["xstate.sendTo", "notifyPeers", "toString"]) {
      expect(() => ConnectionDriver.handlerOf(type)).toThrow(
        expect.objectContaining({
          code: "INTERNAL_ERROR",
          public: false,
          message: expect.stringContaining(type),
        }),
      );
    }
  });
});
