/**
 * Time is injected everywhere (D14): actors, machines and adapters read `now()` and schedule timers
 * through a Clock, so tests advance a ManualClock instead of sleeping on wall time.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const isoTime = (epochMs: number): string => new Date(epochMs).toISOString();

export class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, delayMs);
    // A pending timer of ours never keeps a process alive on its own; servers and sockets do.
    timer.unref();
    this.timers.set(id, timer);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.id);
    }
  }
}

interface PendingTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/** A clock that moves only when a test tells it to; timers fire in due order during `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startEpochMs = Date.UTC(2026, 0, 1)) {
    this.current = startEpochMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueAt: this.current + Math.max(0, delayMs), callback };
    this.pending.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((timer) => timer.id !== handle.id);
  }

  /** Number of timers not yet fired. */
  get pendingTimers(): number {
    return this.pending.length;
  }

  /** Moves time forward, firing every timer that falls due (including ones scheduled by fired timers). */
  advance(deltaMs: number): void {
    if (deltaMs < 0) throw new RangeError("a clock never moves backwards");
    const target = this.current + deltaMs;
    for (;;) {
      const due = this.pending
        .filter((timer) => timer.dueAt <= target)
        .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((timer) => timer.id !== due.id);
      this.current = due.dueAt;
      due.callback();
    }
    this.current = target;
  }
}
