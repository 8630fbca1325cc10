import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnyStateMachine, createMachine } from "xstate";
import { SERVER_MACHINES } from "../../app/machines.js";
import { machineGraph, statesOf } from "../../runtime/inspector/machine-graph.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { type InspectorWorld, startInspectorWorld } from "./inspector-fixture.js";

/**
 * What researchers take away from the inspector of a real embedded platform: every machine as XState JSON
 * that makes the same machine again, its drawing as a file, and recordings of transitions as NDJSON — of one
 * actor or of every actor of a kind, bounded by time and by count (docs/inspector.md).
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");

interface RecordingJson {
  readonly id: string;
  readonly kind: string;
  readonly key: string | null;
  readonly status: "recording" | "done";
  readonly stop_reason: "duration" | "max_events" | "stopped" | null;
  readonly events: number;
  readonly download: string;
  readonly file_name: string;
}

interface StepLine {
  readonly timestamp: string;
  readonly actor: { readonly kind: string; readonly key: string };
  readonly event: string;
  readonly from: string;
  readonly to: string;
}

/** The states and transitions of a machine, as the diagrams see them (inline guards are unnamed in JSON). */
function shape(machine: AnyStateMachine) {
  const graph = machineGraph(machine);
  return {
    states: statesOf(graph).map(({ id, path, kind, initial }) => ({ id, path, kind, initial })),
    transitions: graph.transitions.map(({ source, target, trigger, targetless, reenter, guard }) => ({
      source,
      target,
      trigger,
      targetless,
      reenter,
      guarded: guard !== undefined,
    })),
  };
}

describe.skipIf(!dynamodb || !redis)("the inspector's exports of an embedded platform", () => {
  let world: InspectorWorld;
  let api: string;

  beforeAll(async () => {
    world = await startInspectorWorld({ dynamodb: dynamodb ?? "", redis: redis ?? "" });
    api = `${world.platform.internalUrl}/inspector/api/recordings`;
  });

  afterAll(async () => {
    await world?.stop();
  });

  const record = async (body: Record<string, unknown>): Promise<RecordingJson> => {
    const response = await fetch(api, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: RecordingJson }).data;
  };
  const status = async (id: string): Promise<RecordingJson> =>
    ((await (await fetch(`${api}/${id}`)).json()) as { data: RecordingJson }).data;
  const finished = (id: string) =>
    waitFor(async () => {
      const current = await status(id);
      return current.status === "done" ? current : undefined;
    });
  const lines = async (recording: RecordingJson): Promise<StepLine[]> => {
    const response = await fetch(`${world.platform.internalUrl}${recording.download}`);
    expect(response.status).toBe(200);
    const text = await response.text();
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as StepLine);
  };

  it("exports every registered machine as XState JSON that createMachine turns back into the same machine", async () => {
    for (const drawn of SERVER_MACHINES) {
      const response = await fetch(`${world.platform.internalUrl}/inspector/machines/${drawn.name}.json`);
      expect(response.status, drawn.name).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${drawn.name}.json"`);
      const json = (await response.json()) as Parameters<typeof createMachine>[0];
      expect(shape(createMachine(json)), drawn.name).toEqual(shape(drawn.machine));
    }
    const missing = await fetch(`${world.platform.internalUrl}/inspector/machines/robot.json`);
    expect(missing.status).toBe(404);
  });

  it("serves a diagram as an SVG file to download", async () => {
    const url = `${world.platform.internalUrl}/inspector/machines/connection.svg`;
    const shown = await fetch(url);
    expect(shown.headers.get("content-disposition")).toBeNull();
    const downloaded = await fetch(`${url}?download=1`);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(downloaded.headers.get("content-disposition")).toBe('attachment; filename="connection.svg"');
    expect(await downloaded.text()).toBe(await shown.text());
  });

  it("records one connection's steps as NDJSON until max_events is reached", async () => {
    const recording = await record({
      kind: "connection",
      key: world.alice.connectionId,
      duration_ms: 60_000,
      max_events: 2,
    });
    expect(recording).toMatchObject({
      kind: "connection",
      key: world.alice.connectionId,
      status: "recording",
    });
    world.bob.peer.send("heartbeat", {});
    for (let i = 0; i < 3; i++) world.alice.peer.send("heartbeat", {});
    const done = await finished(recording.id);
    expect(done).toMatchObject({ stop_reason: "max_events", events: 2 });

    const response = await fetch(`${world.platform.internalUrl}${recording.download}`);
    expect(response.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${done.file_name}"`);
    expect(response.headers.get("x-recording-status")).toBe("done");
    const text = await response.text();
    expect(text.endsWith("\n")).toBe(true);
    const steps = text.trimEnd().split("\n");
    expect(steps).toHaveLength(2);
    for (const line of steps) {
      const step = JSON.parse(line) as StepLine;
      expect(Object.keys(step)).toEqual(["timestamp", "actor", "event", "from", "to"]);
      expect(new Date(step.timestamp).toISOString()).toBe(step.timestamp);
      expect(step).toMatchObject({
        actor: { kind: "connection", key: world.alice.connectionId },
        event: "HEARTBEAT",
        from: "established.liveness.alive, established.flow.normal",
        to: "established.liveness.alive, established.flow.normal",
      });
    }
  });

  it("records every sequencer for a bounded time, through the taps it opens and closes again", async () => {
    const recording = await record({ kind: "sequencer", duration_ms: 1_500, max_events: 1_000 });
    expect(recording.key).toBeNull();
    await world.bob.peer.sendMessage(world.chatId, "recorded");
    const done = await finished(recording.id);
    expect(done.stop_reason).toBe("duration");
    const steps = await lines(recording);
    expect(steps.length).toBe(done.events);
    expect(steps).toContainEqual(
      expect.objectContaining({
        actor: { kind: "sequencer", key: world.chatId },
        event: "WORK_STARTED",
        from: "ready.idle",
        to: "ready.busy",
      }),
    );
    // Once the recording ended, no sequencer streams its steps any more.
    expect(world.platform.inspector.registry.openTaps("sequencer")).toBe(0);
  });

  it("records every connection until stopped, and lists the recordings newest first", async () => {
    const recording = await record({ kind: "connection", duration_ms: 60_000, max_events: 100 });
    world.alice.peer.send("heartbeat", {});
    world.bob.peer.send("heartbeat", {});
    await waitFor(async () => ((await status(recording.id)).events >= 2 ? true : undefined));
    const stopped = await fetch(`${api}/${recording.id}/stop`, { method: "POST" });
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as { data: RecordingJson }).data).toMatchObject({
      status: "done",
      stop_reason: "stopped",
    });
    const keys = new Set((await lines(recording)).map((step) => step.actor.key));
    expect([...keys].sort()).toEqual([world.alice.connectionId, world.bob.connectionId].sort());
    const listed = ((await (await fetch(api)).json()) as { data: RecordingJson[] }).data;
    expect(listed[0]?.id).toBe(recording.id);
  });

  it("refuses a malformed recording with the error envelope naming the field", async () => {
    const refusal = async (body: unknown) => {
      const response = await fetch(api, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const json = (await response.json()) as { error: { code: string; details?: { field?: string } } };
      return { status: response.status, code: json.error.code, field: json.error.details?.field };
    };
    expect(await refusal({ kind: "robot" })).toEqual({
      status: 400,
      code: "VALIDATION_ERROR",
      field: "kind",
    });
    // The write cycles are reported when asked, step by step never: nothing to record.
    expect(await refusal({ kind: "write" })).toEqual({
      status: 400,
      code: "VALIDATION_ERROR",
      field: "kind",
    });
    expect(await refusal({ kind: "connection", duration_ms: 0 })).toEqual({
      status: 400,
      code: "VALIDATION_ERROR",
      field: "duration_ms",
    });
    expect(await refusal({ kind: "connection", duration_ms: 3_600_001 })).toMatchObject({
      field: "duration_ms",
    });
    expect(await refusal({ kind: "connection", max_events: 50_001 })).toMatchObject({
      status: 400,
      field: "max_events",
    });
    expect(await refusal({ kind: "connection", key: 7 })).toMatchObject({ status: 400, field: "key" });
    expect(await refusal("[1]")).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    const unknown = await fetch(`${api}/rec_01J000000000000000000000.ndjson`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
