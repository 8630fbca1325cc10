import type { Clock, TimerHandle } from "../runtime/clock.js";

const MAX_DELAY_MS = 2 ** 31 - 1;

interface Entry extends TimerHandle {
  readonly due: number;
  callback: (() => void) | undefined;
}

/**
 * Many timers on one: every connection has an idle timer and a token-expiry timer, and a runtime timer each
 * (an object, a closure and a map entry) would cost more than the rest of an idle connection. This clock keeps
 * them in a binary heap and holds one timer of the underlying clock, for the earliest. Same semantics as the
 * underlying clock (fires at the due time, in due order, ties in creation order); a cleared timer is dropped
 * lazily when it reaches the top, and the heap is compacted when mostly cleared.
 */
export class TimerQueue implements Clock {
  private readonly heap: Entry[] = [];
  private nextId = 1;
  private cleared = 0;
  private armed: { handle: TimerHandle; due: number } | undefined;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  /** Timers not yet fired nor cleared. */
  get size(): number {
    return this.heap.length - this.cleared;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const entry: Entry = { id: this.nextId++, due: this.base.now() + Math.max(0, delayMs), callback };
    this.push(entry);
    this.arm();
    return entry;
  }

  clearTimeout(handle: TimerHandle): void {
    const entry = handle as Entry;
    if (entry.callback === undefined) return;
    entry.callback = undefined;
    this.cleared++;
    if (this.cleared > 64 && this.cleared * 2 > this.heap.length) this.compact();
  }

  /** Stops the underlying timer; pending timers never fire. */
  stop(): void {
    if (this.armed !== undefined) this.base.clearTimeout(this.armed.handle);
    this.armed = undefined;
    this.heap.length = 0;
    this.cleared = 0;
  }

  private arm(): void {
    this.dropClearedTop();
    const top = this.heap[0];
    if (top === undefined) {
      if (this.armed !== undefined) this.base.clearTimeout(this.armed.handle);
      this.armed = undefined;
      return;
    }
    if (this.armed !== undefined && this.armed.due <= top.due) return;
    if (this.armed !== undefined) this.base.clearTimeout(this.armed.handle);
    // Runtime timers cannot wait longer than 2^31-1 ms (a long-lived token's expiry): wake up then and re-arm.
    const due = Math.min(top.due, this.base.now() + MAX_DELAY_MS);
    this.armed = { due, handle: this.base.setTimeout(() => this.fire(), due - this.base.now()) };
  }

  private fire(): void {
    this.armed = undefined;
    const now = this.base.now();
    for (let top = this.heap[0]; top !== undefined && top.due <= now; top = this.heap[0]) {
      this.pop();
      const callback = top.callback;
      if (callback === undefined) {
        this.cleared--;
        continue;
      }
      top.callback = undefined;
      callback();
    }
    this.arm();
  }

  private dropClearedTop(): void {
    for (let top = this.heap[0]; top !== undefined && top.callback === undefined; top = this.heap[0]) {
      this.pop();
      this.cleared--;
    }
  }

  private compact(): void {
    const live = this.heap.filter((entry) => entry.callback !== undefined);
    this.heap.length = 0;
    this.cleared = 0;
    for (const entry of live) this.push(entry);
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.id < b.id);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent] as Entry;
      if (!TimerQueue.before(entry, above)) break;
      heap[index] = above;
      index = parent;
    }
    heap[index] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && TimerQueue.before(heap[right] as Entry, heap[left] as Entry) ? right : left;
      if (!TimerQueue.before(heap[child] as Entry, last)) break;
      heap[index] = heap[child] as Entry;
      index = child;
    }
    heap[index] = last;
  }
}
