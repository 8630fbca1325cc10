import { describe, expect, it } from "vitest";
import { ActorHost, type ActorInstance, type Envelope } from "./actor-host.js";
import { ManualClock } from "./clock.js";
import { AppError, isAppError } from "./errors.js";
import { createLogger } from "./logger.js";

const logger = createLogger({ level: "silent" });
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** An actor that records what happens to it; behaviour is steered per test. */
class Probe implements ActorInstance<string, string> {
  static log: string[] = [];
  static running = 0;
  static maxRunning = 0;
  static failActivation = 0;
  static crashOn: string | undefined;
  static gate: Promise<void> | undefined;

  constructor(readonly key: string) {}

  async activate(): Promise<void> {
    Probe.log.push(`activate ${this.key}`);
    if (Probe.failActivation > 0) {
      Probe.failActivation--;
      throw new AppError("SERVICE_UNAVAILABLE", "database down");
    }
  }

  async receive(batch: readonly Envelope<string, string>[]): Promise<void> {
    Probe.running++;
    Probe.maxRunning = Math.max(Probe.maxRunning, Probe.running);
    try {
      await Probe.gate;
      for (const envelope of batch) {
        if (envelope.message === Probe.crashOn) throw new Error("boom");
        Probe.log.push(`${this.key}:${envelope.message}`);
        envelope.resolve(`${envelope.message}!`);
      }
    } finally {
      Probe.running--;
    }
  }

  static unfinished = 0;

  async drain(): Promise<boolean> {
    Probe.log.push(`drain ${this.key}`);
    if (Probe.unfinished > 0) {
      Probe.unfinished--;
      return false;
    }
    return true;
  }

  dispose(): void {
    Probe.log.push(`dispose ${this.key}`);
  }
}

function host(clock = new ManualClock(0)) {
  Probe.log = [];
  Probe.running = 0;
  Probe.maxRunning = 0;
  Probe.failActivation = 0;
  Probe.crashOn = undefined;
  Probe.gate = undefined;
  Probe.unfinished = 0;
  return new ActorHost<string, string>({
    create: (key) => new Probe(key),
    clock,
    logger,
    idleTimeoutMs: 1_000,
    maxBatch: 10,
  });
}

describe("ActorHost", () => {
  it("activates an actor on its first message and processes one batch at a time, in arrival order", async () => {
    const actors = host();
    let open: () => void = () => {};
    Probe.gate = new Promise((resolve) => {
      open = resolve;
    });
    const replies = Promise.all(["a", "b", "c"].map((m) => actors.ask("chat-1", m)));
    await settle();
    const later = actors.ask("chat-1", "d");
    open();
    expect(await replies).toEqual(["a!", "b!", "c!"]);
    expect(await later).toBe("d!");
    expect(Probe.maxRunning).toBe(1);
    expect(Probe.log).toEqual(["activate chat-1", "chat-1:a", "chat-1:b", "chat-1:c", "chat-1:d"]);
  });

  it("runs different actors concurrently", async () => {
    const actors = host();
    let open: () => void = () => {};
    Probe.gate = new Promise((resolve) => {
      open = resolve;
    });
    const replies = Promise.all([actors.ask("x", "1"), actors.ask("y", "1")]);
    await settle();
    expect(Probe.running).toBe(2);
    open();
    await replies;
  });

  it("fails queued messages when activation fails, and activates again on the next message", async () => {
    const actors = host();
    Probe.failActivation = 1;
    await expect(actors.ask("c", "m")).rejects.toSatisfy(
      (error: unknown) =>
        isAppError(error) && error.code === "SERVICE_UNAVAILABLE" && error.message === "database down",
    );
    expect(actors.stateOf("c")).toBeUndefined();
    expect(await actors.ask("c", "m2")).toBe("m2!");
    expect(Probe.log.filter((line) => line.startsWith("activate"))).toHaveLength(2);
  });

  it("discards a crashed actor, rejects its batch as retryable, and reloads it for the next message", async () => {
    const actors = host();
    expect(await actors.ask("c", "ok")).toBe("ok!");
    Probe.crashOn = "bad";
    await expect(actors.ask("c", "bad")).rejects.toSatisfy(
      (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE" && error.retryable,
    );
    Probe.crashOn = undefined;
    expect(await actors.ask("c", "again")).toBe("again!");
    expect(Probe.log).toEqual(["activate c", "c:ok", "dispose c", "activate c", "c:again"]);
  });

  it("passivates an actor idle for the timeout on the injected clock, after draining it", async () => {
    const clock = new ManualClock(0);
    const actors = host(clock);
    await actors.ask("c", "m");
    await settle();
    expect(actors.stateOf("c")).toBe("ready.idle");
    clock.advance(999);
    expect(actors.stateOf("c")).toBe("ready.idle");
    clock.advance(1);
    await settle();
    await settle();
    expect(actors.stateOf("c")).toBeUndefined();
    expect(Probe.log).toEqual(["activate c", "c:m", "drain c", "dispose c"]);
    expect(actors.activeKeys()).toEqual([]);
  });

  it("stays active when an idle drain cannot finish, and passivates after a later idle period that can", async () => {
    const clock = new ManualClock(0);
    const actors = host(clock);
    Probe.unfinished = 1;
    await actors.ask("c", "m");
    await settle();
    clock.advance(1_000);
    await settle();
    await settle();
    expect(actors.stateOf("c")).toBe("ready.idle");
    clock.advance(1_000);
    await settle();
    await settle();
    expect(actors.stateOf("c")).toBeUndefined();
    expect(Probe.log).toEqual(["activate c", "c:m", "drain c", "drain c", "dispose c"]);
  });

  it("passivates when it loses ownership even if its drain could not finish", async () => {
    const actors = host();
    Probe.unfinished = 1;
    await actors.ask("c", "m");
    await actors.passivate("c");
    expect(actors.stateOf("c")).toBeUndefined();
  });

  it("finishes its mailbox before it passivates when it loses ownership", async () => {
    const actors = host();
    let open: () => void = () => {};
    Probe.gate = new Promise((resolve) => {
      open = resolve;
    });
    const first = actors.ask("c", "1");
    await settle();
    const queued = actors.ask("c", "2");
    const passivated = actors.passivate("c");
    open();
    await passivated;
    expect(await first).toBe("1!");
    expect(await queued).toBe("2!");
    expect(Probe.log).toEqual(["activate c", "c:1", "c:2", "drain c", "dispose c"]);
  });

  it("drains every actor on shutdown and refuses new messages", async () => {
    const actors = host();
    await Promise.all([actors.ask("a", "1"), actors.ask("b", "1")]);
    await actors.shutdown();
    expect(Probe.log.filter((line) => line.startsWith("drain")).sort()).toEqual(["drain a", "drain b"]);
    await expect(actors.ask("a", "2")).rejects.toSatisfy(
      (error: unknown) => isAppError(error) && error.code === "SERVICE_UNAVAILABLE",
    );
  });
});
