import { describe, expect, it } from "vitest";
import { bucketFor, murmur2, partitionFor } from "./partitioning.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The table of spec/delivery-presence-kafka.md §4 (recomputed vectors). */
const VECTORS = [
  { key: "chat_abc123", bucket: 2134, p64: 22, p128: 86, p16: 6, p8: 6 },
  { key: "chat_xyz789", bucket: 490, p64: 42, p128: 106, p16: 10, p8: 2 },
  { key: "chat_000001", bucket: 2285, p64: 45, p128: 109, p16: 13, p8: 5 },
  { key: "chat_测试", bucket: 1567, p64: 31, p128: 31, p16: 15, p8: 7 },
  { key: "", bucket: 2265, p64: 25, p128: 89, p16: 9, p8: 1 },
  { key: "a", bucket: 636, p64: 60, p128: 124, p16: 12, p8: 4 },
  { key: `chat_${"x".repeat(1000)}`, bucket: 1312, p64: 32, p128: 32, p16: 0, p8: 0 },
  { key: "chat_🎉🎊", bucket: 301, p64: 45, p128: 45, p16: 13, p8: 5 },
] as const;

describe("murmur2", () => {
  it("matches Kafka's own checks: '21' hashes to -973932308 as a Java int, 'abc' to 479470107", () => {
    expect(murmur2(utf8("21")) | 0).toBe(-973932308);
    expect(murmur2(utf8("abc")) | 0).toBe(479470107);
  });

  it("returns an unsigned 32-bit number", () => {
    const hash = murmur2(utf8("21"));
    expect(hash).toBeGreaterThanOrEqual(0);
    expect(hash).toBe(-973932308 >>> 0);
  });
});

describe("partitionFor", () => {
  for (const vector of VECTORS) {
    const label = vector.key.length > 20 ? `${vector.key.slice(0, 12)}…(${vector.key.length})` : vector.key;
    it(`puts ${JSON.stringify(label)} in bucket ${vector.bucket} and partitions ${vector.p64}/${vector.p128}/${vector.p16}/${vector.p8} of 64/128/16/8`, () => {
      expect(bucketFor(vector.key)).toBe(vector.bucket);
      expect(partitionFor(vector.key, 64)).toBe(vector.p64);
      expect(partitionFor(vector.key, 128)).toBe(vector.p128);
      expect(partitionFor(vector.key, 16)).toBe(vector.p16);
      expect(partitionFor(vector.key, 8)).toBe(vector.p8);
    });
  }

  it("keeps every key in partition 0 of a one-partition topic", () => {
    for (const vector of VECTORS) expect(partitionFor(vector.key, 1)).toBe(0);
  });

  it("refuses a partition count that is not a positive whole number", () => {
    expect(() => partitionFor("chat_abc123", 0)).toThrow(RangeError);
    expect(() => partitionFor("chat_abc123", 2.5)).toThrow(RangeError);
  });
});
