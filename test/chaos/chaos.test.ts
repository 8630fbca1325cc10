import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineEndpoint } from "../support/engines.js";
import { runChaos } from "./chaos.js";
import { formatReport } from "./report.js";

/**
 * The short chaos profile of `npm test` (the long one is `npm run chaos`): a cluster under a seeded fault
 * schedule while clients send; the checker must find no violation.
 */
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

describe.skipIf(!dynamodb || !redis || !kafka)("chaos (short profile)", () => {
  it("loses nothing, duplicates nothing and converges every client under kills, drains and Redis flushes", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "chaos-test-"));
    try {
      const report = await runChaos({
        seed: 20261127,
        durationMs: 40_000,
        users: 12,
        faultEveryMs: 5_000,
        engines: { DYNAMODB_ENDPOINT: dynamodb ?? "", REDIS_URL: redis ?? "", KAFKA_BROKERS: kafka ?? "" },
        dataDir,
        progress: () => {},
      });
      console.log(formatReport(report));
      // A loaded machine sends less; the point is that a workload ran through the faults.
      expect(report.acknowledged).toBeGreaterThan(20);
      expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
      expect(report.violationList).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
