import { describe, expect, it } from "vitest";
import type { WriteCycleEvent } from "./write-cycle.machine.js";
import { WriteCycleDriver } from "./write-cycle-driver.js";

function driver(maxRounds = 2) {
  const refused: string[] = [];
  const cycle = new WriteCycleDriver(
    {
      refuseFull: () => refused.push("full"),
      refuseContended: () => refused.push("contended"),
      refuseStorageError: () => refused.push("storage"),
    },
    maxRounds,
  );
  const run = (...events: WriteCycleEvent[]) => events.map((event) => cycle.send(event));
  return { cycle, refused, run };
}

describe("write cycle machine (D16)", () => {
  it("a batch goes check → put → ack → index → publish, block by block, then collects again", () => {
    const { run, refused } = driver();
    expect(
      run(
        { type: "BATCH", sends: 3 },
        { type: "CHECKED", fresh: 3 },
        { type: "PUT_WRITTEN" },
        { type: "ACKED" },
        { type: "INDEX_QUEUED" },
        { type: "PUBLISH_QUEUED", left: 1 },
        { type: "PUT_WRITTEN" },
        { type: "ACKED" },
        { type: "INDEX_QUEUED" },
        { type: "PUBLISH_QUEUED", left: 0 },
      ),
    ).toEqual([
      "checking",
      "committing",
      "acknowledging",
      "indexing",
      "publishing",
      "committing",
      "acknowledging",
      "indexing",
      "publishing",
      "collecting",
    ]);
    expect(refused).toEqual([]);
  });

  it("a batch that the checks fully answer writes nothing", () => {
    const { run } = driver();
    expect(run({ type: "BATCH", sends: 2 }, { type: "CHECKED", fresh: 0 })).toEqual([
      "checking",
      "collecting",
    ]);
  });

  it("a taken put reloads and commits the rest; rounds are bounded and then the rest is refused as contended", () => {
    const { run, refused } = driver(2);
    run({ type: "BATCH", sends: 2 }, { type: "CHECKED", fresh: 2 });
    expect(run({ type: "PUT_TAKEN" }, { type: "RELOADED", left: 2 })).toEqual(["reloading", "committing"]);
    expect(run({ type: "PUT_TAKEN" }, { type: "RELOADED", left: 1 })).toEqual(["reloading", "collecting"]);
    expect(refused).toEqual(["contended"]);
    // The next batch starts with fresh rounds.
    run({ type: "BATCH", sends: 1 }, { type: "CHECKED", fresh: 1 });
    expect(run({ type: "PUT_TAKEN" }, { type: "RELOADED", left: 1 })).toEqual(["reloading", "committing"]);
  });

  it("rule 6: after a put without an answer, a reload that finds the batch answers it; one that does not refuses it", () => {
    const found = driver();
    found.run({ type: "BATCH", sends: 1 }, { type: "CHECKED", fresh: 1 });
    expect(found.run({ type: "PUT_FAILED" }, { type: "RELOADED", left: 0 })).toEqual([
      "reloading",
      "collecting",
    ]);
    expect(found.refused).toEqual([]);
    const lost = driver();
    lost.run({ type: "BATCH", sends: 1 }, { type: "CHECKED", fresh: 1 });
    expect(lost.run({ type: "PUT_FAILED" }, { type: "RELOADED", left: 1 })).toEqual([
      "reloading",
      "collecting",
    ]);
    expect(lost.refused).toEqual(["storage"]);
  });

  it("a full memory and a failed reload refuse the batch; a stale tail reloads before the put", () => {
    const { run, refused } = driver();
    run({ type: "BATCH", sends: 1 }, { type: "CHECKED", fresh: 1 });
    expect(run({ type: "FULL" })).toEqual(["collecting"]);
    run({ type: "BATCH", sends: 1 }, { type: "CHECKED", fresh: 1 });
    expect(run({ type: "STALE" }, { type: "RELOAD_FAILED" })).toEqual(["reloading", "collecting"]);
    expect(refused).toEqual(["full", "storage"]);
  });
});
