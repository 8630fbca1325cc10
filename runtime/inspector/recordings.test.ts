import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { AppError } from "../errors.js";
import { ActorRegistry } from "./actor-registry.js";
import { RECORDING_LIMITS, type RecordedStep, Recordings, recordingRequestOf } from "./recordings.js";

const KINDS = ["connection", "sequencer"];
const alive = { established: { liveness: "alive", flow: "normal" } } as const;
const slow = { established: { liveness: "alive", flow: "slow" } } as const;

function world() {
  const clock = new ManualClock();
  const registry = new ActorRegistry(clock, KINDS);
  const recordings = new Recordings(registry, clock);
  return { clock, registry, recordings };
}

const steps = (recordings: Recordings, id: string): RecordedStep[] =>
  recordings
    .ndjson(id)
    .body.split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RecordedStep);

describe("recordings of transitions", () => {
  it("write one NDJSON line per step of the recorded actor, and stop when the duration has passed", () => {
    const { clock, registry, recordings } = world();
    registry.added("connection", "c1", "authenticating");
    registry.added("connection", "c2", "authenticating");
    const started = recordings.start({ kind: "connection", key: "c1", durationMs: 1_000, maxEvents: 100 });
    const id = String(started.id);
    expect(started).toMatchObject({ status: "recording", key: "c1", events: 0, stop_reason: null });
    registry.stepped("connection", "c1", "ESTABLISHED", alive, false);
    registry.stepped("connection", "c2", "ESTABLISHED", alive, false);
    clock.advance(999);
    registry.stepped("connection", "c1", "BUFFER_HIGH", slow, false);
    clock.advance(1);
    registry.stepped("connection", "c1", "BUFFER_RECOVERED", alive, false);

    expect(recordings.describe(id)).toMatchObject({ status: "done", stop_reason: "duration", events: 2 });
    const text = recordings.ndjson(id).body;
    expect(text.endsWith("\n")).toBe(true);
    const first = JSON.parse(text.split("\n")[0] ?? "");
    expect(Object.keys(first)).toEqual(["timestamp", "actor", "event", "from", "to"]);
    expect(steps(recordings, id)).toEqual([
      {
        timestamp: new Date(clock.now() - 1_000).toISOString(),
        actor: { kind: "connection", key: "c1" },
        event: "ESTABLISHED",
        from: "authenticating",
        to: "established.liveness.alive, established.flow.normal",
      },
      {
        timestamp: new Date(clock.now() - 1).toISOString(),
        actor: { kind: "connection", key: "c1" },
        event: "BUFFER_HIGH",
        from: "established.liveness.alive, established.flow.normal",
        to: "established.liveness.alive, established.flow.slow",
      },
    ]);
  });

  it("record every actor of a kind, and stop at max_events", () => {
    const { registry, recordings } = world();
    const id = String(
      recordings.start({ kind: "connection", key: undefined, durationMs: 60_000, maxEvents: 3 }).id,
    );
    for (const key of ["c1", "c2", "c3", "c4"]) registry.added("connection", key, "authenticating");
    for (const key of ["c1", "c2", "c3", "c4"])
      registry.stepped("connection", key, "ESTABLISHED", alive, false);
    expect(recordings.describe(id)).toMatchObject({ status: "done", stop_reason: "max_events", events: 3 });
    expect(steps(recordings, id).map((step) => step.actor.key)).toEqual(["c1", "c2", "c3"]);
  });

  it("stop on request, name their files after the actor, and keep the newest ones", () => {
    const { recordings } = world();
    const first = recordings.start({ kind: "connection", key: "conn/1", durationMs: 60_000, maxEvents: 10 });
    expect(first.file_name).toBe("connection-conn_1-20260101T000000Z.ndjson");
    expect(recordings.stop(String(first.id))).toMatchObject({ status: "done", stop_reason: "stopped" });
    for (let i = 1; i < RECORDING_LIMITS.maxKept; i++) {
      recordings.start({ kind: "sequencer", key: undefined, durationMs: 60_000, maxEvents: 10 });
    }
    // Every place taken: the finished one makes room; then every kept recording is running.
    recordings.start({ kind: "sequencer", key: undefined, durationMs: 60_000, maxEvents: 10 });
    expect(() => recordings.describe(String(first.id))).toThrow(AppError);
    expect(() =>
      recordings.start({ kind: "sequencer", key: undefined, durationMs: 1, maxEvents: 1 }),
    ).toThrow(expect.objectContaining({ code: "RATE_LIMITED" }));
    expect(recordings.list()).toHaveLength(RECORDING_LIMITS.maxKept);
  });

  it("refuse a request with a bad kind, key, duration, count or an unknown field, naming the field", () => {
    const refused = (body: Record<string, unknown>) => {
      try {
        recordingRequestOf(body, KINDS);
      } catch (error) {
        return { code: (error as AppError).code, field: (error as AppError).details?.field };
      }
      return undefined;
    };
    expect(refused({ kind: "robot" })).toEqual({ code: "VALIDATION_ERROR", field: "kind" });
    expect(refused({ kind: "connection", key: "" })).toEqual({ code: "VALIDATION_ERROR", field: "key" });
    expect(refused({ kind: "connection", duration_ms: 0 })).toEqual({
      code: "VALIDATION_ERROR",
      field: "duration_ms",
    });
    expect(refused({ kind: "connection", duration_ms: RECORDING_LIMITS.maxDurationMs + 1 })).toEqual({
      code: "VALIDATION_ERROR",
      field: "duration_ms",
    });
    expect(refused({ kind: "connection", max_events: 1.5 })).toEqual({
      code: "VALIDATION_ERROR",
      field: "max_events",
    });
    expect(refused({ kind: "connection", max_events: "10" })).toEqual({
      code: "VALIDATION_ERROR",
      field: "max_events",
    });
    expect(refused({ kind: "connection", duration: 10 })).toEqual({
      code: "VALIDATION_ERROR",
      field: "duration",
    });
    expect(recordingRequestOf({ kind: "connection" }, KINDS)).toEqual({
      kind: "connection",
      key: undefined,
      durationMs: RECORDING_LIMITS.defaultDurationMs,
      maxEvents: RECORDING_LIMITS.defaultMaxEvents,
    });
  });
});
