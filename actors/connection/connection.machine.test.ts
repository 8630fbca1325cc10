import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { ManualClock } from "../../runtime/clock.js";
import { type CloseReason, connectionMachine } from "./connection.machine.js";

function start(tokenTtlMs = 3_600_000) {
  const clock = new ManualClock();
  const calls: string[] = [];
  const machine = connectionMachine.provide({
    actions: {
      warnSlowConsumer: () => calls.push("warnSlowConsumer"),
      beginClose: (_, params: { reason: CloseReason | null }) => calls.push(`beginClose:${params.reason}`),
      terminate: () => calls.push("terminate"),
      release: () => calls.push("release"),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      idleTimeoutMs: 60_000,
      slowConsumerGraceMs: 5_000,
      closeTimeoutMs: 5_000,
    },
  });
  actor.start();
  actor.send({ type: "ESTABLISHED", tokenTtlMs });
  return { clock, calls, actor, state: () => actor.getSnapshot() };
}

describe("connection lifecycle machine", () => {
  it("starts authenticating; a rejected handshake ends closed and releases", () => {
    const actor = createActor(connectionMachine.provide({ actions: { release: () => {} } }), {
      clock: new ManualClock(),
      input: { idleTimeoutMs: 1, slowConsumerGraceMs: 1, closeTimeoutMs: 1 },
    });
    actor.start();
    expect(actor.getSnapshot().value).toBe("authenticating");
    actor.send({ type: "REJECTED" });
    expect(actor.getSnapshot().status).toBe("done");
  });

  it("closes with idle_timeout after the idle timeout without a heartbeat", () => {
    const { clock, calls, state } = start();
    clock.advance(59_000);
    expect(state().matches("established")).toBe(true);
    expect(calls).toEqual([]);
    clock.advance(1_000);
    expect(state().value).toBe("closing");
    expect(calls).toEqual(["beginClose:idle_timeout"]);
  });

  it("a heartbeat postpones idle_timeout by a full period", () => {
    const { clock, calls, actor, state } = start();
    clock.advance(50_000);
    actor.send({ type: "HEARTBEAT" });
    clock.advance(50_000);
    expect(state().matches("established")).toBe(true);
    clock.advance(10_000);
    expect(calls).toEqual(["beginClose:idle_timeout"]);
  });

  it("slow consumer: warns at BUFFER_HIGH, recovers on BUFFER_RECOVERED, else closes after the grace", () => {
    const { clock, calls, actor, state } = start();
    actor.send({ type: "BUFFER_HIGH" });
    expect(calls).toEqual(["warnSlowConsumer"]);
    clock.advance(4_000);
    actor.send({ type: "BUFFER_RECOVERED" });
    clock.advance(4_000);
    expect(state().matches({ established: { flow: "normal" } })).toBe(true);
    actor.send({ type: "HEARTBEAT" });
    actor.send({ type: "BUFFER_HIGH" });
    clock.advance(5_000);
    expect(calls).toEqual(["warnSlowConsumer", "warnSlowConsumer", "beginClose:slow_consumer"]);
  });

  it("a hard overflow closes with slow_consumer at once", () => {
    const { calls, actor } = start();
    actor.send({ type: "BUFFER_OVERFLOW" });
    expect(calls).toEqual(["beginClose:slow_consumer"]);
  });

  it("token_expired when the token's lifetime ends", () => {
    const { clock, calls, actor } = start(30_000);
    actor.send({ type: "HEARTBEAT" });
    clock.advance(30_000);
    expect(calls).toEqual(["beginClose:token_expired"]);
  });

  it("closing waits for the socket to close, else terminates after the close timeout; both release", () => {
    const first = start();
    first.actor.send({ type: "CLOSE", reason: "server_shutdown" });
    first.actor.send({ type: "SOCKET_CLOSED" });
    expect(first.calls).toEqual(["beginClose:server_shutdown", "release"]);
    const second = start();
    second.actor.send({ type: "CLOSE", reason: "duplicate_connection" });
    second.clock.advance(5_000);
    expect(second.calls).toEqual(["beginClose:duplicate_connection", "terminate", "release"]);
    expect(second.state().status).toBe("done");
  });

  it("a client that closes first goes straight to closed without a closing frame", () => {
    const { calls, actor, state } = start();
    actor.send({ type: "SOCKET_CLOSED" });
    expect(calls).toEqual(["release"]);
    expect(state().value).toBe("closed");
  });
});
