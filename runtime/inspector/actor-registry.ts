import type { Clock } from "../clock.js";
import type { ActorKind } from "./machine-catalog.js";
import { activePaths, describeState, type StateValueLike } from "./state-value.js";

/** One step of a watched actor, as the inspector streams it. */
export interface InspectionRecord {
  readonly kind: ActorKind;
  readonly key: string;
  /** The event's type (`HEARTBEAT`, `xstate.after.idleTimeout…`). */
  readonly event: string;
  /** Active leaf states before and after, dotted. */
  readonly from: string;
  readonly to: string;
  /** The actor reached a final state (or was stopped): no more records follow. */
  readonly ended: boolean;
  readonly at: number;
}

export type RecordListener = (record: InspectionRecord) => void;

/**
 * Streams one actor's steps on demand. Sources that see every step anyway (connections) need none; others
 * (sequencer actors) start XState inspection only while someone watches.
 */
export type Tap = (emit: (event: string, value: StateValueLike, ended: boolean) => void) => () => void;

interface Entry {
  value: StateValueLike;
  paths: readonly string[];
  readonly tap: Tap | undefined;
}

class KindTable {
  readonly actors = new Map<string, Entry>();
  /** Live actors per active state path (ancestors included). */
  readonly counts = new Map<string, number>();
  /** Actors that ended, per final state path, since this process started. */
  readonly ended = new Map<string, number>();
  /** Listeners of one actor each, by key. */
  readonly watches = new Map<string, Set<RecordListener>>();
  /** Listeners of every actor of the kind (a kind-wide recording). */
  readonly everyActor = new Set<RecordListener>();
  /** The taps open now, by key: at most one per actor, whoever listens. */
  readonly taps = new Map<string, () => void>();

  count(paths: readonly string[], delta: number): void {
    for (const path of paths) {
      const next = (this.counts.get(path) ?? 0) + delta;
      if (next === 0) this.counts.delete(path);
      else this.counts.set(path, next);
    }
  }

  /** Whether anyone listens to the actor's steps. */
  heard(key: string): boolean {
    return this.everyActor.size > 0 || this.watches.has(key);
  }
}

export interface ActorSummary {
  readonly kind: ActorKind;
  readonly key: string;
  readonly state: string;
  readonly watchable: boolean;
}

/**
 * The live actors of this process, fed by the places that create them. Counting is a few map updates per
 * state change (the depth of the machine); nothing is kept per step. Steps are turned into records only
 * for actors someone watches.
 */
export class ActorRegistry {
  private readonly tables: Map<ActorKind, KindTable>;
  private readonly pathCache = new WeakMap<object, readonly string[]>();

  constructor(
    private readonly clock: Clock,
    /** The kinds of actor reported here (the registered machines' kinds). */
    private readonly kinds: readonly ActorKind[],
  ) {
    this.tables = new Map(kinds.map((kind) => [kind, new KindTable()]));
  }

  /** A new actor in its first state; `tap` streams its steps while someone listens to them. */
  added(kind: ActorKind, key: string, value: StateValueLike, tap?: Tap): void {
    const table = this.table(kind);
    const known = table.actors.get(key);
    if (known !== undefined) table.count(known.paths, -1);
    this.closeTap(table, key);
    const paths = this.pathsOf(value);
    table.actors.set(key, { value, paths, tap });
    table.count(paths, 1);
    if (tap !== undefined && table.heard(key)) this.openTap(kind, key, tap);
  }

  /**
   * The actor handled `event` and is now in `value` (the same value object when nothing changed). `done`:
   * it reached a final state and leaves the registry.
   */
  stepped(kind: ActorKind, key: string, event: string, value: StateValueLike, done: boolean): void {
    const table = this.table(kind);
    const entry = table.actors.get(key);
    if (entry === undefined) return;
    const before = entry.value;
    if (value !== before) {
      const paths = this.pathsOf(value);
      table.count(entry.paths, -1);
      table.count(paths, 1);
      entry.value = value;
      entry.paths = paths;
    }
    // Two size checks per step while nobody listens: the actors nobody watches pay nothing more.
    if (
      entry.tap === undefined &&
      (table.watches.size > 0 || table.everyActor.size > 0) &&
      table.heard(key)
    ) {
      this.emit(table, key, this.record(kind, key, event, before, value, done));
    }
    if (done) this.removed(kind, key);
  }

  /** The actor is gone (final state reached, or discarded). */
  removed(kind: ActorKind, key: string): void {
    const table = this.table(kind);
    const entry = table.actors.get(key);
    if (entry === undefined) return;
    table.actors.delete(key);
    table.count(entry.paths, -1);
    const state = describeState(entry.value);
    table.ended.set(state, (table.ended.get(state) ?? 0) + 1);
    const untap = table.taps.get(key);
    if (untap !== undefined) {
      table.taps.delete(key);
      // XState tells snapshot observers before inspection observers: the tap still has the final step to
      // report, within this same synchronous update.
      queueMicrotask(untap);
    }
  }

  /** Live actors per active state path. */
  counts(kind: ActorKind): Record<string, number> {
    return Object.fromEntries([...this.table(kind).counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Actors that ended since start, per final state. */
  ended(kind: ActorKind): Record<string, number> {
    return Object.fromEntries([...this.table(kind).ended].sort(([a], [b]) => a.localeCompare(b)));
  }

  size(kind: ActorKind): number {
    return this.table(kind).actors.size;
  }

  /** Up to `limit` actors, filtered by kind, by a state path they are in, and by a part of their key. */
  list(filter: { kind?: ActorKind; state?: string; key?: string; limit: number }): {
    actors: ActorSummary[];
    total: number;
  } {
    const actors: ActorSummary[] = [];
    let total = 0;
    for (const kind of filter.kind === undefined ? this.kinds : [filter.kind]) {
      for (const [key, entry] of this.table(kind).actors) {
        if (filter.key !== undefined && !key.includes(filter.key)) continue;
        if (filter.state !== undefined && !entry.paths.includes(filter.state)) continue;
        total++;
        if (actors.length < filter.limit) {
          actors.push({ kind, key, state: describeState(entry.value), watchable: true });
        }
      }
    }
    return { actors, total };
  }

  /** The actor's current state, or undefined when it is not live. */
  stateOf(kind: ActorKind, key: string): string | undefined {
    const entry = this.table(kind).actors.get(key);
    return entry === undefined ? undefined : describeState(entry.value);
  }

  /** Streams the actor's steps to `listener` until the returned function is called. */
  watch(kind: ActorKind, key: string, listener: RecordListener): () => void {
    const table = this.table(kind);
    let listeners = table.watches.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      table.watches.set(key, listeners);
    }
    listeners.add(listener);
    const tap = table.actors.get(key)?.tap;
    if (tap !== undefined && !table.taps.has(key)) this.openTap(kind, key, tap);
    const held = listeners;
    return () => {
      held.delete(listener);
      if (held.size > 0) return;
      if (table.watches.get(key) === held) table.watches.delete(key);
      if (!table.heard(key)) this.closeTap(table, key);
    };
  }

  /**
   * Streams the steps of every actor of `kind`, live now or created later, until the returned function is
   * called. Actors that report each step anyway cost nothing more; the others open their tap meanwhile.
   */
  watchKind(kind: ActorKind, listener: RecordListener): () => void {
    const table = this.table(kind);
    table.everyActor.add(listener);
    for (const [key, entry] of table.actors) {
      if (entry.tap !== undefined && !table.taps.has(key)) this.openTap(kind, key, entry.tap);
    }
    return () => {
      if (!table.everyActor.delete(listener) || table.everyActor.size > 0) return;
      for (const key of [...table.taps.keys()]) {
        if (!table.watches.has(key)) this.closeTap(table, key);
      }
    };
  }

  /** How many actors of `kind` stream their steps through a tap now (a cost only while someone listens). */
  openTaps(kind: ActorKind): number {
    return this.table(kind).taps.size;
  }

  private openTap(kind: ActorKind, key: string, tap: Tap): void {
    const table = this.table(kind);
    this.closeTap(table, key);
    let before = table.actors.get(key)?.value ?? "";
    table.taps.set(
      key,
      tap((event, value, ended) => {
        this.emit(table, key, this.record(kind, key, event, before, value, ended));
        before = value;
      }),
    );
  }

  private closeTap(table: KindTable, key: string): void {
    const untap = table.taps.get(key);
    if (untap === undefined) return;
    table.taps.delete(key);
    untap();
  }

  private emit(table: KindTable, key: string, record: InspectionRecord): void {
    for (const listener of table.watches.get(key) ?? []) listener(record);
    for (const listener of table.everyActor) listener(record);
  }

  private record(
    kind: ActorKind,
    key: string,
    event: string,
    before: StateValueLike,
    after: StateValueLike,
    ended: boolean,
  ): InspectionRecord {
    return {
      kind,
      key,
      event,
      from: describeState(before),
      to: describeState(after),
      ended,
      at: this.clock.now(),
    };
  }

  /** Paths of a value; values shared between actors (interned snapshots) are resolved once. */
  private pathsOf(value: StateValueLike): readonly string[] {
    if (typeof value === "string") return [value];
    let paths = this.pathCache.get(value);
    if (paths === undefined) {
      paths = activePaths(value);
      this.pathCache.set(value, paths);
    }
    return paths;
  }

  private table(kind: ActorKind): KindTable {
    let table = this.tables.get(kind);
    if (table === undefined) {
      // A kind nobody registered still counts; it is listed once it is registered.
      table = new KindTable();
      this.tables.set(kind, table);
    }
    return table;
  }
}
