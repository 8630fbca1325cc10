import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type Sequence, toSequence, type UserId } from "../../runtime/ids.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { Gate, interceptedStore } from "../../test/support/intercepted-store.js";
import { DeliveryWrites } from "./delivery-writes.js";

const FLUSH_MS = 1_000;
const RETRY_MS = 500;
const MAX_RETRY_MS = 4_000;
const MAX_IN_FLIGHT = 16;

const seq = (value: number): Sequence => toSequence(value);

/** Lets the store's promises and the continuations they start run; no clock time passes. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Write {
  readonly userId: UserId;
  readonly chatId: ChatId;
  readonly sequence: number;
}

function fixture(
  options: { failures?: number; gate?: Gate; store?: (inner: MessageStore) => MessageStore } = {},
) {
  const clock = new ManualClock();
  const ids = new IdFactory(clock);
  const store = new MemoryMessageStore({ clock });
  const writes: Write[] = [];
  let failuresLeft = options.failures ?? 0;
  const seen = interceptedStore(store, {
    advanceDeliveryState: async (userId, chatId, sequence) => {
      writes.push({ userId, chatId, sequence });
      await options.gate?.pass();
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("delivery_state is unavailable");
      }
    },
  });
  const logged: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const deliveries = new DeliveryWrites({
    store: seen,
    clock,
    logger,
    flushMs: FLUSH_MS,
    retryMs: RETRY_MS,
    maxRetryMs: MAX_RETRY_MS,
    maxInFlight: MAX_IN_FLIGHT,
  });
  const storedOf = async (userId: UserId, chatId: ChatId) =>
    (await store.getDeliveryState(userId, chatId))?.lastAckedSequence;
  /** Moves the clock and lets the writes it started complete. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { clock, ids, store, writes, logged, deliveries, storedOf, advance };
}

describe("delivery state write-behind (D8, D16 rule 9)", () => {
  it("many acks of one (chat, user) within the flush delay become one write of the highest", async () => {
    const { ids, deliveries, writes, storedOf, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    for (let sequence = 1; sequence <= 50; sequence++) deliveries.record(user, chat, seq(sequence));
    expect(deliveries.pending).toBe(1);
    await advance(FLUSH_MS);
    expect(writes).toEqual([{ userId: user, chatId: chat, sequence: 50 }]);
    expect(await storedOf(user, chat)).toBe(50);
    expect(deliveries.stored(user, chat)).toBe(50);
    expect(deliveries.pending).toBe(0);
  });

  it("an ack lower than one already recorded or stored is ignored", async () => {
    const { ids, deliveries, writes, storedOf, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    deliveries.record(user, chat, seq(10));
    deliveries.record(user, chat, seq(5));
    await advance(FLUSH_MS);
    expect(await storedOf(user, chat)).toBe(10);
    deliveries.record(user, chat, seq(7));
    deliveries.record(user, chat, seq(10));
    expect(deliveries.pending).toBe(0);
    await advance(FLUSH_MS);
    expect(writes.map((write) => write.sequence)).toEqual([10]);
    expect(deliveries.stored(user, chat)).toBe(10);
  });

  it("nothing is written before the flush delay, everything at it, and no timer is left afterwards", async () => {
    const { clock, ids, deliveries, writes, storedOf, advance } = fixture();
    const [first, second, chat] = [ids.user(), ids.user(), ids.chat()];
    deliveries.record(first, chat, seq(3));
    await advance(FLUSH_MS / 2);
    deliveries.record(second, chat, seq(4));
    await advance(FLUSH_MS / 2 - 1);
    expect(writes).toEqual([]);
    expect(await storedOf(first, chat)).toBeUndefined();
    await advance(1);
    expect(await storedOf(first, chat)).toBe(3);
    expect(await storedOf(second, chat)).toBe(4);
    expect(deliveries.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("an Ack reply sees only what is stored: nothing before the write, then the written value", async () => {
    const { ids, deliveries, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    deliveries.record(user, chat, seq(8));
    expect(deliveries.stored(user, chat)).toBeUndefined();
    await advance(FLUSH_MS);
    expect(deliveries.stored(user, chat)).toBe(8);
    deliveries.record(user, chat, seq(9));
    expect(deliveries.stored(user, chat)).toBe(8);
  });

  it("flushChat writes one chat's acks at once and leaves other chats to the flush round", async () => {
    const { ids, deliveries, storedOf, advance } = fixture();
    const [first, second, passivated, other] = [ids.user(), ids.user(), ids.chat(), ids.chat()];
    deliveries.record(first, passivated, seq(2));
    deliveries.record(second, passivated, seq(6));
    deliveries.record(first, other, seq(4));
    expect(await deliveries.flushChat(passivated)).toBe(true);
    expect(await storedOf(first, passivated)).toBe(2);
    expect(await storedOf(second, passivated)).toBe(6);
    expect(await storedOf(first, other)).toBeUndefined();
    expect(deliveries.pending).toBe(1);
    await advance(FLUSH_MS);
    expect(await storedOf(first, other)).toBe(4);
    expect(await deliveries.flushChat(other)).toBe(true);
  });

  it("flushAll writes every chat's acks at once", async () => {
    const { ids, deliveries, storedOf, clock } = fixture();
    const users = [ids.user(), ids.user(), ids.user()];
    const chats = [ids.chat(), ids.chat()];
    for (const [u, user] of users.entries()) {
      for (const [c, chat] of chats.entries()) deliveries.record(user, chat, seq(10 * u + c + 1));
    }
    expect(deliveries.pending).toBe(6);
    expect(await deliveries.flushAll()).toBe(true);
    expect(deliveries.pending).toBe(0);
    for (const [u, user] of users.entries()) {
      for (const [c, chat] of chats.entries()) expect(await storedOf(user, chat)).toBe(10 * u + c + 1);
    }
    deliveries.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("a failed write keeps its entry, merges a later ack into it and is retried after a doubling backoff", async () => {
    const { ids, deliveries, writes, logged, storedOf, advance } = fixture({ failures: 2 });
    const [user, chat] = [ids.user(), ids.chat()];
    expect(() => deliveries.record(user, chat, seq(5))).not.toThrow();
    await advance(FLUSH_MS);
    expect(writes).toHaveLength(1);
    expect(deliveries.pending).toBe(1);
    expect(deliveries.stored(user, chat)).toBeUndefined();
    expect(logged.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
      "delivery state write failed; retrying",
    ]);
    deliveries.record(user, chat, seq(7));
    await advance(RETRY_MS - 1);
    expect(writes).toHaveLength(1);
    await advance(1);
    expect(writes.map((write) => write.sequence)).toEqual([5, 7]);
    // Second consecutive failure: twice the pause.
    await advance(2 * RETRY_MS - 1);
    expect(writes).toHaveLength(2);
    await advance(1);
    expect(writes.map((write) => write.sequence)).toEqual([5, 7, 7]);
    expect(await storedOf(user, chat)).toBe(7);
    expect(deliveries.stored(user, chat)).toBe(7);
    expect(deliveries.pending).toBe(0);
  });

  it("flushChat resolves false when storage fails, and the timer retries the entry afterwards", async () => {
    const { ids, deliveries, storedOf, advance, clock } = fixture({ failures: 1 });
    const [user, chat] = [ids.user(), ids.chat()];
    deliveries.record(user, chat, seq(3));
    expect(await deliveries.flushChat(chat)).toBe(false);
    expect(deliveries.pending).toBe(1);
    await advance(RETRY_MS);
    expect(await storedOf(user, chat)).toBe(3);
    expect(deliveries.pending).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("an older ack never overwrites a newer stored value, and a read fed in becomes what is reported", async () => {
    const { ids, store, deliveries, writes, storedOf, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    // Another owner of the chat stored a later ack.
    await store.advanceDeliveryState(user, chat, seq(10));
    deliveries.record(user, chat, seq(5));
    await advance(FLUSH_MS);
    expect(writes.map((write) => write.sequence)).toEqual([5]);
    expect(await storedOf(user, chat)).toBe(10);
    // The conditional write refused, so at least 5 is stored; the exact value comes from a read.
    expect(deliveries.stored(user, chat)).toBe(5);
    deliveries.learnStored(user, chat, seq(10));
    expect(deliveries.stored(user, chat)).toBe(10);
    deliveries.learnStored(user, chat, seq(4));
    expect(deliveries.stored(user, chat)).toBe(10);
  });

  it("an ack at or below a stored value learned from a read needs no write", async () => {
    const { ids, deliveries, writes, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    deliveries.record(user, chat, seq(6));
    deliveries.learnStored(user, chat, seq(9));
    expect(deliveries.pending).toBe(0);
    expect(await deliveries.flushChat(chat)).toBe(true);
    await advance(FLUSH_MS);
    expect(writes).toEqual([]);
    expect(deliveries.stored(user, chat)).toBe(9);
  });

  it("no more than maxInFlight writes run at once, and one key has at most one", async () => {
    const gate = new Gate();
    const { ids, deliveries, writes, storedOf, advance } = fixture({ gate });
    const chat = ids.chat();
    const users = Array.from({ length: 40 }, () => ids.user());
    for (const user of users) deliveries.record(user, chat, seq(1));
    await advance(FLUSH_MS);
    expect(gate.arrivals).toBe(MAX_IN_FLIGHT);
    // A higher ack of a key being written waits for that write.
    const [busy] = users as [UserId];
    deliveries.record(busy, chat, seq(2));
    const flushed = deliveries.flushChat(chat);
    await settle();
    expect(gate.arrivals).toBe(MAX_IN_FLIGHT);
    gate.open();
    expect(await flushed).toBe(true);
    expect(writes).toHaveLength(41);
    expect(writes.filter((write) => write.userId === busy).map((write) => write.sequence)).toEqual([1, 2]);
    for (const user of users) expect(await storedOf(user, chat)).toBe(user === busy ? 2 : 1);
  });

  it("stop clears the timers: nothing is written afterwards and a flush reports failure", async () => {
    const { clock, ids, deliveries, writes, advance } = fixture();
    const [user, chat] = [ids.user(), ids.chat()];
    deliveries.record(user, chat, seq(1));
    expect(clock.pendingTimers).toBe(1);
    deliveries.stop();
    expect(clock.pendingTimers).toBe(0);
    await advance(10 * FLUSH_MS);
    expect(writes).toEqual([]);
    expect(await deliveries.flushAll()).toBe(false);
  });

  it("forgetChat drops the stored positions of a chat but keeps an unwritten ack", async () => {
    const { ids, deliveries, storedOf } = fixture();
    const [written, unwritten, chat] = [ids.user(), ids.user(), ids.chat()];
    deliveries.record(written, chat, seq(4));
    expect(await deliveries.flushChat(chat)).toBe(true);
    deliveries.record(unwritten, chat, seq(2));
    deliveries.forgetChat(chat);
    expect(deliveries.stored(written, chat)).toBeUndefined();
    expect(deliveries.pending).toBe(1);
    expect(await deliveries.flushChat(chat)).toBe(true);
    expect(await storedOf(unwritten, chat)).toBe(2);
  });
});
