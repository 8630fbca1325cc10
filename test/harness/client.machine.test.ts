import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { ManualClock } from "../../runtime/clock.js";
import {
  backoffDelayMs,
  DEFAULT_BACKOFF,
  heartbeatDelayMs,
  jittered,
  reconnectDelayMs,
  seededRandom,
} from "./backoff.js";
import {
  type ClientEvent,
  type ClientStateName,
  clientMachine,
  connectivityOf,
  contractStateOf,
} from "./client.machine.js";

/** The machine alone: every action a no-op, time on a ManualClock, states in the contract's names. */
function machine(options: { reconnectOnDuplicate?: boolean; seed?: number } = {}) {
  const clock = new ManualClock();
  const calls: string[] = [];
  const record = (name: string) => () => {
    calls.push(name);
  };
  const actor = createActor(
    clientMachine.provide({
      actions: {
        obtainToken: (_, params) => calls.push(`obtainToken(${params.forceRefresh})`),
        openSocket: record("openSocket"),
        abortSocket: record("abortSocket"),
        beginSync: record("beginSync"),
        sendHeartbeat: record("sendHeartbeat"),
        flushOutbox: record("flushOutbox"),
        stopSending: record("stopSending"),
        flushAcks: record("flushAcks"),
        closeSocket: record("closeSocket"),
        terminateSocket: record("terminateSocket"),
      },
    }),
    {
      clock,
      input: {
        policy: {
          backoff: DEFAULT_BACKOFF,
          random: seededRandom(options.seed ?? 5),
          closeTimeoutMs: 5_000,
          reconnectOnDuplicate: options.reconnectOnDuplicate ?? false,
        },
      },
    },
  ).start();
  const state = (): ClientStateName => contractStateOf(actor.getSnapshot().value);
  const send = (event: ClientEvent) => actor.send(event);
  const toReady = () => {
    send({ type: "CONNECT" });
    send({ type: "TOKEN_READY" });
    send({ type: "ESTABLISHED", heartbeatIntervalMs: 30_000 });
    send({ type: "SYNC_STARTED" });
    send({ type: "SYNC_COMPLETE" });
  };
  return { clock, calls, actor, state, send, toReady };
}

describe("client machine", () => {
  it("walks Disconnected → Connecting → Authenticating → Connected → Syncing → Ready → Closing → Disconnected", () => {
    const { state, send, calls } = machine();
    const seen: ClientStateName[] = [state()];
    const step = (event: ClientEvent) => {
      send(event);
      seen.push(state());
    };
    step({ type: "CONNECT" });
    step({ type: "TOKEN_READY" });
    step({ type: "ESTABLISHED", heartbeatIntervalMs: 30_000 });
    step({ type: "SYNC_STARTED" });
    step({ type: "SYNC_COMPLETE" });
    step({ type: "CLOSE" });
    step({ type: "SOCKET_CLOSED", code: 1000 });
    expect(seen).toEqual([
      "Disconnected",
      "Connecting",
      "Authenticating",
      "Connected",
      "Syncing",
      "Ready",
      "Closing",
      "Disconnected",
    ]);
    // CL-05/AK-04 order on the way out: stop sending, flush acks, then close.
    expect(calls.slice(-3)).toEqual(["stopSending", "flushAcks", "closeSocket"]);
  });

  it("CL-04: heartbeats start at connection_established and repeat every interval ±10%", () => {
    const { clock, calls, send } = machine();
    send({ type: "CONNECT" });
    send({ type: "TOKEN_READY" });
    clock.advance(120_000);
    expect(calls.filter((call) => call === "sendHeartbeat")).toHaveLength(0);
    send({ type: "ESTABLISHED", heartbeatIntervalMs: 10_000 });
    clock.advance(8_999);
    expect(calls.filter((call) => call === "sendHeartbeat")).toHaveLength(0);
    clock.advance(100_000);
    const beats = calls.filter((call) => call === "sendHeartbeat").length;
    expect(beats).toBeGreaterThanOrEqual(Math.floor(109_000 / 11_000));
    expect(beats).toBeLessThanOrEqual(Math.ceil(109_000 / 9_000));
  });

  it("CL-05: connection_closing waits reconnect_delay_ms plus 0–25% jitter, then reconnects", () => {
    const { clock, state, send, toReady, actor } = machine();
    toReady();
    send({ type: "SERVER_CLOSING", reason: "server_shutdown", reconnectDelayMs: 4_000 });
    expect(state()).toBe("Closing");
    send({ type: "SOCKET_CLOSED", code: 1001 });
    const delay = actor.getSnapshot().context.reconnectDelayMs;
    expect(delay).toBeGreaterThanOrEqual(4_000);
    expect(delay).toBeLessThanOrEqual(5_000);
    clock.advance(delay - 1);
    expect(state()).toBe("Disconnected");
    clock.advance(1);
    expect(state()).toBe("Connecting");
  });

  it("closing without a close handshake terminates the socket after the close timeout", () => {
    const { clock, state, send, toReady, calls } = machine();
    toReady();
    send({ type: "CLOSE" });
    clock.advance(5_000);
    expect(calls).toContain("terminateSocket");
    expect(state()).toBe("Disconnected");
  });

  it("token_expired asks for a fresh token before reconnecting", () => {
    const { clock, send, toReady, calls, actor } = machine();
    toReady();
    send({ type: "SERVER_CLOSING", reason: "token_expired", reconnectDelayMs: 1_000 });
    send({ type: "SOCKET_CLOSED", code: 1008 });
    clock.advance(actor.getSnapshot().context.reconnectDelayMs);
    expect(calls.at(-1)).toBe("obtainToken(true)");
  });

  it("duplicate_connection stays offline unless told to reconnect", () => {
    const quiet = machine();
    quiet.toReady();
    quiet.send({ type: "SERVER_CLOSING", reason: "duplicate_connection", reconnectDelayMs: 1_000 });
    quiet.send({ type: "SOCKET_CLOSED", code: 1001 });
    expect(connectivityOf(quiet.state(), quiet.actor.getSnapshot().context)).toBe("offline");
    const eager = machine({ reconnectOnDuplicate: true });
    eager.toReady();
    eager.send({ type: "SERVER_CLOSING", reason: "duplicate_connection", reconnectDelayMs: 1_000 });
    eager.send({ type: "SOCKET_CLOSED", code: 1001 });
    expect(connectivityOf(eager.state(), eager.actor.getSnapshot().context)).toBe("reconnecting");
  });

  it("CL-06: the backoff resets on connection_established", () => {
    const { clock, send, actor } = machine();
    send({ type: "CONNECT" });
    for (let failure = 0; failure < 3; failure++) {
      send({ type: "TOKEN_READY" });
      send({ type: "SOCKET_CLOSED", code: 1006 });
      clock.advance(actor.getSnapshot().context.reconnectDelayMs);
    }
    expect(actor.getSnapshot().context.attempt).toBe(3);
    send({ type: "TOKEN_READY" });
    send({ type: "ESTABLISHED", heartbeatIntervalMs: 30_000 });
    expect(actor.getSnapshot().context.attempt).toBe(0);
  });

  it("CL-08: connectivity is connected / reconnecting / offline", () => {
    const { state, send, toReady, actor } = machine();
    expect(connectivityOf(state(), actor.getSnapshot().context)).toBe("offline");
    toReady();
    expect(connectivityOf(state(), actor.getSnapshot().context)).toBe("connected");
    send({ type: "SOCKET_CLOSED", code: 1006 });
    expect(connectivityOf(state(), actor.getSnapshot().context)).toBe("reconnecting");
    send({ type: "CLOSE" });
    expect(connectivityOf(state(), actor.getSnapshot().context)).toBe("offline");
  });
});

describe("timing policy", () => {
  it("CL-06: 1 s, 2 s, 4 s … capped at 30 s, each ±25%", () => {
    const nominal = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000];
    for (const [attempt, base] of nominal.entries()) {
      expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 0.5)).toBe(base);
      expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 0)).toBe(base * 0.75);
      expect(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 0.999_999)).toBeCloseTo(base * 1.25, -1);
    }
  });

  it("a seeded random gives the same delays every run", () => {
    const first = Array.from(
      { length: 5 },
      (
        (random) => (_: unknown, i: number) =>
          backoffDelayMs(i, DEFAULT_BACKOFF, random)
      )(seededRandom(9)),
    );
    const second = Array.from(
      { length: 5 },
      (
        (random) => (_: unknown, i: number) =>
          backoffDelayMs(i, DEFAULT_BACKOFF, random)
      )(seededRandom(9)),
    );
    expect(first).toEqual(second);
  });

  it("CL-04 and CL-05 jitter bounds", () => {
    expect(heartbeatDelayMs(30_000, () => 0)).toBe(27_000);
    expect(heartbeatDelayMs(30_000, () => 0.999_999)).toBeCloseTo(33_000, -1);
    expect(reconnectDelayMs(5_000, () => 0)).toBe(5_000);
    expect(reconnectDelayMs(5_000, () => 0.999_999)).toBeCloseTo(6_250, -1);
    expect(jittered(100, 0.5, () => 0.5)).toBe(100);
  });
});
