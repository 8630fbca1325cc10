import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.js";
import { TimerQueue } from "./timer-queue.js";

describe("TimerQueue: many timers on one timer of the underlying clock", () => {
  it("fires in due order, ties in creation order, at their due time, holding one underlying timer", () => {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    const fired: string[] = [];
    const start = clock.now();
    for (const [name, delay] of [
      ["c", 300],
      ["a", 100],
      ["b", 200],
      ["a2", 100],
    ] as const) {
      queue.setTimeout(() => fired.push(`${name}@${clock.now() - start}`), delay);
    }
    expect(clock.pendingTimers).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1_000);
    expect(fired).toEqual(["a@100", "a2@100", "b@200", "c@300"]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("a cleared timer never fires; clearing the earliest re-arms for the next", () => {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    const fired: number[] = [];
    const first = queue.setTimeout(() => fired.push(1), 10);
    queue.setTimeout(() => fired.push(2), 20);
    queue.clearTimeout(first);
    queue.clearTimeout(first);
    expect(queue.size).toBe(1);
    clock.advance(15);
    expect(fired).toEqual([]);
    clock.advance(5);
    expect(fired).toEqual([2]);
  });

  it("timers set by a firing callback fire within the same advance when due", () => {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    const fired: number[] = [];
    queue.setTimeout(() => {
      fired.push(clock.now());
      queue.setTimeout(() => fired.push(clock.now()), 50);
    }, 50);
    const start = clock.now();
    clock.advance(100);
    expect(fired.map((at) => at - start)).toEqual([50, 100]);
  });

  it("stays correct through many timers and mass clearing (compaction)", () => {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    const fired: number[] = [];
    const handles = Array.from({ length: 1_000 }, (_, i) =>
      queue.setTimeout(() => fired.push(i), 1 + ((i * 7919) % 500)),
    );
    handles.forEach((handle, i) => {
      if (i % 3 !== 0) queue.clearTimeout(handle);
    });
    clock.advance(1_000);
    const expected = Array.from({ length: 1_000 }, (_, i) => i)
      .filter((i) => i % 3 === 0)
      .sort((a, b) => 1 + ((a * 7919) % 500) - (1 + ((b * 7919) % 500)) || a - b);
    expect(fired).toEqual(expected);
    expect(queue.size).toBe(0);
  });

  it("a timer beyond the runtime's 2^31-1 ms limit waits in steps instead of firing early", () => {
    const clock = new ManualClock();
    const queue = new TimerQueue(clock);
    let fired = false;
    queue.setTimeout(() => {
      fired = true;
    }, 2 ** 32);
    clock.advance(2 ** 31);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(2 ** 31);
    expect(fired).toBe(true);
  });
});
