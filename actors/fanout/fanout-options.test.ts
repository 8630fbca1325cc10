import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config.js";
import { FANOUT_DEFAULTS, fanoutOptionsFromConfig } from "./fanout-options.js";
import { DEFAULT_PACING, pacedSlices } from "./pacing.js";

describe("fanout options", () => {
  it("take their defaults from the configuration schema, which matches the worker's defaults", () => {
    const options = fanoutOptionsFromConfig(loadConfig({ env: {} }));
    expect({ ...FANOUT_DEFAULTS, ...options }).toEqual(FANOUT_DEFAULTS);
  });

  it("follow the environment", () => {
    const options = fanoutOptionsFromConfig(
      loadConfig({ env: { FANOUT_DELIVER_TIMEOUT_MS: "250", FANOUT_PACING_RATE_PER_SEC: "0" } }),
    );
    expect(options.deliverTimeoutMs).toBe(250);
    expect(options.pacing?.ratePerSec).toBe(0);
  });
});

describe("pacing of large chats", () => {
  const recipients = (count: number) => Array.from({ length: count }, (_, index) => index);

  it("sends to every recipient of a chat up to the immediate size at once", () => {
    expect(pacedSlices(recipients(50), 50, DEFAULT_PACING)).toEqual([
      { delayMs: 0, recipients: recipients(50) },
    ]);
    // Only online recipients count: a big chat with few online members is not held back.
    expect(pacedSlices(recipients(10), 100, DEFAULT_PACING)).toHaveLength(1);
  });

  it("paces the rest at 100/s in 100 ms slices, and the largest chats at 50/s", () => {
    const medium = pacedSlices(recipients(100), 100, DEFAULT_PACING);
    expect(medium.map((slice) => [slice.delayMs, slice.recipients.length])).toEqual([
      [0, 50],
      ...Array.from({ length: 5 }, () => [100, 10]),
    ]);
    expect(medium.flatMap((slice) => slice.recipients)).toEqual(recipients(100));
    const large = pacedSlices(recipients(300), 300, DEFAULT_PACING);
    expect(large[1]?.recipients).toHaveLength(5);
    expect(large).toHaveLength(1 + 50);
  });

  it("is off for a tier whose rate is 0", () => {
    expect(pacedSlices(recipients(100), 100, { ...DEFAULT_PACING, ratePerSec: 0 })).toHaveLength(1);
  });
});
