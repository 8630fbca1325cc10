import { describe, expect, it } from "vitest";
import { CoalescedReads } from "./coalesced-reads.js";

/** A reader whose reads stay open until released, recording the keys of each. */
function heldReader() {
  const reads: number[][] = [];
  const releases: (() => void)[] = [];
  const reader = new CoalescedReads<number, number>(
    (keys) =>
      new Promise((resolve) => {
        reads.push([...keys]);
        releases.push(() => resolve(keys.map((key) => key * 10)));
      }),
    2,
    100,
  );
  const releaseAll = () => {
    for (const release of releases.splice(0)) release();
  };
  return { reader, reads, releaseAll };
}

describe("coalesced reads", () => {
  it("sends the keys asked for in one synchronous loop as one read", async () => {
    const { reader, reads, releaseAll } = heldReader();
    const answers = Promise.all(Array.from({ length: 33 }, (_, i) => reader.read(i)));
    await Promise.resolve();
    expect(reads).toEqual([Array.from({ length: 33 }, (_, i) => i)]);
    releaseAll();
    expect(await answers).toEqual(Array.from({ length: 33 }, (_, i) => i * 10));
  });

  it("queues keys while maxInFlight reads run and sends them together with the next read", async () => {
    const { reader, reads, releaseAll } = heldReader();
    const first = reader.read(1);
    await Promise.resolve();
    const second = reader.read(2);
    await Promise.resolve();
    const waiting = [reader.read(3), reader.read(4), reader.read(5)];
    await Promise.resolve();
    expect(reads).toEqual([[1], [2]]);
    expect(reader.pending).toBe(5);
    releaseAll();
    expect(await Promise.all([first, second])).toEqual([10, 20]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([[1], [2], [3, 4, 5]]);
    releaseAll();
    expect(await Promise.all(waiting)).toEqual([30, 40, 50]);
  });

  it("takes at most maxBatch keys per read", async () => {
    const { reader, reads, releaseAll } = heldReader();
    const answers = Promise.all(Array.from({ length: 250 }, (_, i) => reader.read(i)));
    await Promise.resolve();
    expect(reads.map((keys) => keys.length)).toEqual([100, 100]);
    releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads.map((keys) => keys.length)).toEqual([100, 100, 50]);
    releaseAll();
    expect((await answers).length).toBe(250);
  });
});
