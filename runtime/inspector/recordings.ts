import type { Clock, TimerHandle } from "../clock.js";
import { AppError } from "../errors.js";
import { IdFactory } from "../ids.js";
import type { ActorRegistry, InspectionRecord } from "./actor-registry.js";
import type { ActorKind } from "./machine-catalog.js";

/**
 * Recordings of actors' transitions for people to take away: one actor (kind and key) or every actor of a
 * kind, from now until a duration or an event count is reached, whichever comes first. Each step becomes one
 * line of NDJSON (docs/inspector.md):
 *
 *   {"timestamp":"2026-01-01T00:00:00.000Z","actor":{"kind":"connection","key":"conn_…"},"event":"HEARTBEAT","from":"…","to":"…"}
 *
 * A recording listens through the registry's watches, so actors outside it keep their fast path; it holds its
 * lines in memory, within the caps below, until newer recordings push it out.
 */
export const RECORDING_LIMITS = {
  /** Longest recording. */
  maxDurationMs: 3_600_000,
  defaultDurationMs: 60_000,
  /** Most steps in one recording (a line is about 200 bytes). */
  maxEvents: 50_000,
  defaultMaxEvents: 10_000,
  /** Recordings kept per process, running or finished; the oldest finished one makes room for a new one. */
  maxKept: 8,
} as const;

export type RecordingStatus = "recording" | "done";
/** Why a recording ended: its duration passed, it reached max_events, or it was stopped on request. */
export type StopReason = "duration" | "max_events" | "stopped";

export interface RecordingRequest {
  readonly kind: ActorKind;
  /** One actor; undefined: every actor of the kind. */
  readonly key: string | undefined;
  readonly durationMs: number;
  readonly maxEvents: number;
}

/** One step as a recording writes it (the NDJSON line's object). */
export interface RecordedStep {
  readonly timestamp: string;
  readonly actor: { readonly kind: ActorKind; readonly key: string };
  readonly event: string;
  readonly from: string;
  readonly to: string;
}

class Recording {
  readonly lines: string[] = [];
  status: RecordingStatus = "recording";
  stopReason: StopReason | undefined;
  stoppedAt: number | undefined;
  timer: TimerHandle | undefined;
  unwatch: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly request: RecordingRequest,
    readonly startedAt: number,
  ) {}

  describe(): Record<string, unknown> {
    const { kind, key, durationMs, maxEvents } = this.request;
    return {
      id: this.id,
      kind,
      key: key ?? null,
      status: this.status,
      stop_reason: this.stopReason ?? null,
      started_at: new Date(this.startedAt).toISOString(),
      ends_at: new Date(this.startedAt + durationMs).toISOString(),
      stopped_at: this.stoppedAt === undefined ? null : new Date(this.stoppedAt).toISOString(),
      duration_ms: durationMs,
      max_events: maxEvents,
      events: this.lines.length,
      download: `/inspector/api/recordings/${this.id}.ndjson`,
      file_name: this.fileName(),
    };
  }

  /** `connection-conn_01J…-20260101T000000Z.ndjson`: kind, key when there is one, and when it started. */
  fileName(): string {
    const { kind, key } = this.request;
    const at = new Date(this.startedAt).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    const parts = [kind, ...(key === undefined ? [] : [key]), at].map((part) =>
      part.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80),
    );
    return `${parts.join("-")}.ndjson`;
  }

  ndjson(): string {
    return this.lines.length === 0 ? "" : `${this.lines.join("\n")}\n`;
  }
}

export class Recordings {
  private readonly recordings = new Map<string, Recording>();
  private readonly ids: IdFactory;

  constructor(
    private readonly registry: ActorRegistry,
    private readonly clock: Clock,
  ) {
    this.ids = new IdFactory(clock);
  }

  start(request: RecordingRequest): Record<string, unknown> {
    this.makeRoom();
    const recording = new Recording(`rec_${this.ids.ulid()}`, request, this.clock.now());
    this.recordings.set(recording.id, recording);
    const onRecord = (record: InspectionRecord) => {
      if (recording.status !== "recording") return;
      recording.lines.push(JSON.stringify(stepOf(record)));
      if (recording.lines.length >= request.maxEvents) this.finish(recording, "max_events");
    };
    recording.unwatch =
      request.key === undefined
        ? this.registry.watchKind(request.kind, onRecord)
        : this.registry.watch(request.kind, request.key, onRecord);
    recording.timer = this.clock.setTimeout(() => this.finish(recording, "duration"), request.durationMs);
    return recording.describe();
  }

  list(): Array<Record<string, unknown>> {
    return [...this.recordings.values()].reverse().map((recording) => recording.describe());
  }

  describe(id: string): Record<string, unknown> {
    return this.get(id).describe();
  }

  /** The lines recorded so far (all of them once it is done), with the file name to save them under. */
  ndjson(id: string): { body: string; fileName: string; status: RecordingStatus } {
    const recording = this.get(id);
    return { body: recording.ndjson(), fileName: recording.fileName(), status: recording.status };
  }

  stop(id: string): Record<string, unknown> {
    const recording = this.get(id);
    this.finish(recording, "stopped");
    return recording.describe();
  }

  close(): void {
    for (const recording of this.recordings.values()) this.finish(recording, "stopped");
  }

  private get(id: string): Recording {
    const recording = this.recordings.get(id);
    if (recording === undefined) throw new AppError("NOT_FOUND", `no recording ${id}`);
    return recording;
  }

  private finish(recording: Recording, reason: StopReason): void {
    if (recording.status !== "recording") return;
    recording.status = "done";
    recording.stopReason = reason;
    recording.stoppedAt = this.clock.now();
    if (recording.timer !== undefined) this.clock.clearTimeout(recording.timer);
    recording.unwatch?.();
    recording.unwatch = undefined;
  }

  /** Drops the oldest finished recording when the process holds as many as it keeps. */
  private makeRoom(): void {
    if (this.recordings.size < RECORDING_LIMITS.maxKept) return;
    for (const [id, recording] of this.recordings) {
      if (recording.status === "done") {
        this.recordings.delete(id);
        return;
      }
    }
    throw new AppError("RATE_LIMITED", `${RECORDING_LIMITS.maxKept} recordings are running already`, {
      details: { limit: "recordings_running", max: RECORDING_LIMITS.maxKept },
    });
  }
}

function stepOf(record: InspectionRecord): RecordedStep {
  return {
    timestamp: new Date(record.at).toISOString(),
    actor: { kind: record.kind, key: record.key },
    event: record.event,
    from: record.from,
    to: record.to,
  };
}

const REQUEST_FIELDS = new Set(["kind", "key", "duration_ms", "max_events"]);

/**
 * The body of `POST /inspector/api/recordings`: `{kind, key?, duration_ms?, max_events?}`. `recordable` are
 * the kinds whose actors report their steps (not those a plane reports only when asked). Anything else is a
 * VALIDATION_ERROR naming the field.
 */
export function recordingRequestOf(
  body: Record<string, unknown>,
  recordable: readonly ActorKind[],
): RecordingRequest {
  const invalid = (field: string, message: string) =>
    new AppError("VALIDATION_ERROR", message, { details: { field } });
  for (const field of Object.keys(body)) {
    if (!REQUEST_FIELDS.has(field)) {
      throw invalid(field, `unknown field ${field}: expected kind, key, duration_ms and max_events`);
    }
  }
  const { kind, key } = body;
  if (typeof kind !== "string" || !recordable.includes(kind)) {
    throw invalid("kind", `kind must be one of ${recordable.join(", ")}`);
  }
  if (key !== undefined && key !== null && (typeof key !== "string" || key.length < 1 || key.length > 256)) {
    throw invalid(
      "key",
      "key must be a string of 1 to 256 characters, or absent for every actor of the kind",
    );
  }
  return {
    kind,
    key: typeof key === "string" ? key : undefined,
    durationMs: integerField(
      body,
      "duration_ms",
      1,
      RECORDING_LIMITS.maxDurationMs,
      RECORDING_LIMITS.defaultDurationMs,
    ),
    maxEvents: integerField(
      body,
      "max_events",
      1,
      RECORDING_LIMITS.maxEvents,
      RECORDING_LIMITS.defaultMaxEvents,
    ),
  };
}

function integerField(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new AppError("VALIDATION_ERROR", `${field} must be an integer from ${min} to ${max}`, {
      details: { field, min, max },
    });
  }
  return value;
}
