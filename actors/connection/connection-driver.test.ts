import { describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/clock.js";
import type { CloseReason } from "./connection.machine.js";
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
