import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineEndpoint } from "../support/engines.js";
import { FAULT_KINDS, runChaos } from "./chaos.js";
import { formatReport } from "./report.js";

/**
 * The short chaos profile of `npm test` (the long one is `npm run chaos`): a cluster under a seeded fault
 * schedule while clients send; every kind of fault must have been put into effect (a turn that could not
 * inject its fault does not count) and the checker must find no violation.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

describe.skipIf(!dynamodb || !redis || !kafka)("chaos (short profile)", () => {
  it("loses nothing, duplicates nothing and converges every client under every kind of fault", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "chaos-test-"));
    try {
      const report = await runChaos({
        seed: 20261127,
        // 14 fault kinds take turns every 4 s from the 4th second, a few of them lasting longer (a frozen broker
        // up to 6 s, a live second owner up to 15 s when it spreads clients first): 90 s sees each at least once.
        durationMs: 90_000,
        users: 30,
        faultEveryMs: 4_000,
        sendPauseMs: [300, 1_500],
        dynamodbEndpoint: dynamodb ?? "",
        dataDir,
        progress: () => {},
      });
      console.log(formatReport(report));
      // A loaded machine sends less; the point is that a workload ran through the faults.
      expect(report.acknowledged).toBeGreaterThan(20);
      for (const kind of FAULT_KINDS) expect(report.faults[kind], `${kind} injected`).toBeGreaterThan(0);
      expect(report.violationList).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
