import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { IdFactory, isChatId, isMessageId, isSequence, isUlid, toSequence, UlidGenerator } from "./ids.js";

describe("ids", () => {
  it("encodes the clock's time in the first 10 ULID characters", () => {
    const ulid = new UlidGenerator(
      new ManualClock(Date.UTC(2026, 0, 31, 10, 0, 0, 100)),
      () => new Uint8Array(10),
    );
    // 1769853600100 ms in Crockford base 32.
    expect(ulid.next()).toBe("01KG9QXGB40000000000000000");
  });

  it("stays strictly increasing within one millisecond and across a clock that stands still", () => {
    const clock = new ManualClock(5_000);
    const ids = new IdFactory(clock);
    const made = Array.from({ length: 1_000 }, () => ids.message());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    clock.advance(1);
    const later = ids.message();
    expect(later > (made.at(-1) ?? "")).toBe(true);
  });

  it("prefixes each kind of id and recognises only well-formed ones", () => {
    const ids = new IdFactory(new ManualClock());
    const chat = ids.chat();
    expect(chat).toMatch(/^chat_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isChatId(chat)).toBe(true);
    expect(isMessageId(chat)).toBe(false);
    expect(ids.user().startsWith("user_")).toBe(true);
    expect(ids.connection().startsWith("conn_")).toBe(true);
    expect(isUlid("01KG7W1VB4000000000000000I")).toBe(false);
  });

  it("accepts sequences only as integers in 1..2^53-1", () => {
    expect(isSequence(1)).toBe(true);
    expect(isSequence(2 ** 53 - 1)).toBe(true);
    for (const bad of [0, -1, 1.5, 2 ** 53, Number.NaN, "1"]) expect(isSequence(bad)).toBe(false);
    expect(() => toSequence(0)).toThrow(RangeError);
  });
});
