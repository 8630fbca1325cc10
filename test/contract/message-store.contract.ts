import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type Sequence, toSequence } from "../../runtime/ids.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";

export interface MessageStoreFixture {
  readonly store: MessageStore;
  /** The clock the store reads `now` from; tests move it to make records expire (D12). */
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every MessageStore adapter must have (ARCHITECTURE.md D2, D4, D8, D12 and invariants 1, 2,
 * 4). One fixture per suite; every test works on fresh chat and user ids, so tests never see each other.
 */
export function describeMessageStoreContract(name: string, make: () => Promise<MessageStoreFixture>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let fixture: MessageStoreFixture;
    let store: MessageStore;
    const ids = new IdFactory({ now: () => Date.now() });
    const seq = (value: number): Sequence => toSequence(value);

    const message = (chatId: ChatId, sequence: number, content = `message ${sequence}`): StoredMessage => ({
      chatId,
      sequence: seq(sequence),
      messageId: ids.message(),
      senderId: ids.user(),
      clientMessageId: `client-${sequence}-${content}`,
      content,
      contentType: "text/plain",
      createdAt: fixture.clock.now(),
    });
    const messages = (chatId: ChatId, from: number, to: number): StoredMessage[] =>
      Array.from({ length: to - from + 1 }, (_, index) => message(chatId, from + index));
    const sequencesOf = (list: readonly StoredMessage[]): number[] => list.map((m) => m.sequence);
    const record = (chatId: ChatId, clientMessageId: string, sequence: number, ttlMs = 60_000) => ({
      chatId,
      clientMessageId,
      messageId: ids.message(),
      sequence: seq(sequence),
      createdAt: fixture.clock.now(),
      expiresAt: fixture.clock.now() + ttlMs,
    });

    beforeAll(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    describe("messages", () => {
      it("appended messages are read back exactly as written", async () => {
        const chatId = ids.chat();
        const batch = messages(chatId, 1, 3);
        expect(await store.appendMessages(chatId, batch)).toEqual({ written: 3 });
        for (const written of batch)
          expect(await store.getMessage(chatId, written.sequence)).toEqual(written);
        expect(await store.getMessage(chatId, seq(4))).toBeUndefined();
        expect(await store.getMessage(ids.chat(), seq(1))).toBeUndefined();
      });

      it("a second writer of a taken sequence gets conflictAt and the first content stays (invariant 1)", async () => {
        const chatId = ids.chat();
        const first = message(chatId, 1, "first owner");
        const second = message(chatId, 1, "stale owner");
        expect(await store.appendMessages(chatId, [first])).toEqual({ written: 1 });
        expect(await store.appendMessages(chatId, [second])).toEqual({ written: 0, conflictAt: 1 });
        expect(await store.getMessage(chatId, seq(1))).toEqual(first);
      });

      it("a batch stops at the first taken sequence and writes nothing after it", async () => {
        const chatId = ids.chat();
        const taken = message(chatId, 3, "already there");
        await store.appendMessages(chatId, [taken]);
        expect(await store.appendMessages(chatId, messages(chatId, 1, 5))).toEqual({
          written: 2,
          conflictAt: 3,
        });
        expect(await store.getMessage(chatId, seq(3))).toEqual(taken);
        expect(await store.getMessage(chatId, seq(4))).toBeUndefined();
        expect(await store.getMessage(chatId, seq(5))).toBeUndefined();
        expect(sequencesOf(await store.readMessages(chatId, { limit: 10, order: "asc" }))).toEqual([1, 2, 3]);
      });

      it("appending the very same messages again (a retry of a write that landed) is not a conflict", async () => {
        const chatId = ids.chat();
        const batch = messages(chatId, 1, 2);
        await store.appendMessages(chatId, batch.slice(0, 1));
        expect(await store.appendMessages(chatId, batch)).toEqual({ written: 2, landedBefore: [batch[0]] });
        expect(await store.getMessage(chatId, seq(2))).toEqual(batch[1]);
      });

      it("a message found under its message_id is reported as stored, not as given (a twin owner wrote it)", async () => {
        const chatId = ids.chat();
        const [original] = messages(chatId, 1, 1);
        if (original === undefined) throw new Error("no message");
        await store.appendMessages(chatId, [original]);
        const twin = { ...original, content: "the retry's content", createdAt: original.createdAt + 5_000 };
        expect(await store.appendMessages(chatId, [twin])).toEqual({ written: 1, landedBefore: [original] });
        expect(await store.getMessage(chatId, seq(1))).toEqual(original);
      });

      it("an empty batch writes nothing and succeeds", async () => {
        expect(await store.appendMessages(ids.chat(), [])).toEqual({ written: 0 });
      });

      it("concurrent writers of one sequence: exactly one wins and its content is stored", async () => {
        const chatId = ids.chat();
        const candidates = Array.from({ length: 8 }, (_, index) => message(chatId, 1, `writer ${index}`));
        const results = await Promise.all(candidates.map((m) => store.appendMessages(chatId, [m])));
        const winners = results.flatMap((result, index) => (result.written === 1 ? [index] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((result) => result.conflictAt === 1)).toHaveLength(7);
        expect(await store.getMessage(chatId, seq(1))).toEqual(candidates[winners[0] ?? -1]);
      });

      it("a batch of another chat, with a gap or out of order is refused before anything is written", async () => {
        const chatId = ids.chat();
        const refused = [
          [message(chatId, 1), message(ids.chat(), 2)],
          [message(chatId, 1), message(chatId, 3)],
          [message(chatId, 2), message(chatId, 1)],
        ];
        for (const batch of refused) {
          await expect(store.appendMessages(chatId, batch)).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
        }
        expect(await store.getMessage(chatId, seq(1))).toBeUndefined();
      });
    });

    describe("reading ranges", () => {
      let chatId: ChatId;
      beforeAll(async () => {
        chatId = ids.chat();
        await store.appendMessages(chatId, messages(chatId, 1, 10));
        // Another chat's messages never leak into the range.
        const other = ids.chat();
        await store.appendMessages(other, messages(other, 1, 3));
      });

      it("reads ascending after a sequence, at most limit", async () => {
        const read = await store.readMessages(chatId, { after: 3, limit: 4, order: "asc" });
        expect(sequencesOf(read)).toEqual([4, 5, 6, 7]);
        expect(read[0]?.chatId).toBe(chatId);
      });

      it("reads descending before a sequence, at most limit", async () => {
        const read = await store.readMessages(chatId, { before: 8, limit: 3, order: "desc" });
        expect(sequencesOf(read)).toEqual([7, 6, 5]);
      });

      it("after and before together bound the range, both exclusive, in either order", async () => {
        expect(
          sequencesOf(await store.readMessages(chatId, { after: 2, before: 6, limit: 10, order: "asc" })),
        ).toEqual([3, 4, 5]);
        expect(
          sequencesOf(await store.readMessages(chatId, { after: 2, before: 6, limit: 2, order: "desc" })),
        ).toEqual([5, 4]);
      });

      it("without bounds the whole chat is read from either end", async () => {
        expect(sequencesOf(await store.readMessages(chatId, { limit: 2, order: "asc" }))).toEqual([1, 2]);
        expect(sequencesOf(await store.readMessages(chatId, { limit: 2, order: "desc" }))).toEqual([10, 9]);
        expect(await store.readMessages(chatId, { limit: 1000, order: "asc" })).toHaveLength(10);
      });

      it("empty ranges, ranges past the tail and unknown chats read nothing", async () => {
        expect(await store.readMessages(chatId, { after: 5, before: 6, limit: 10, order: "asc" })).toEqual(
          [],
        );
        expect(await store.readMessages(chatId, { after: 7, before: 3, limit: 10, order: "asc" })).toEqual(
          [],
        );
        expect(await store.readMessages(chatId, { after: 10, limit: 10, order: "asc" })).toEqual([]);
        expect(await store.readMessages(chatId, { before: 1, limit: 10, order: "desc" })).toEqual([]);
        expect(await store.readMessages(ids.chat(), { limit: 10, order: "asc" })).toEqual([]);
      });

      it("gaps are kept: a range returns only sequences that exist", async () => {
        const gappy = ids.chat();
        await store.appendMessages(gappy, messages(gappy, 1, 2));
        await store.appendMessages(gappy, [message(gappy, 5)]);
        expect(sequencesOf(await store.readMessages(gappy, { after: 1, limit: 10, order: "asc" }))).toEqual([
          2, 5,
        ]);
      });

      it("a limit outside 1..1000 is refused", async () => {
        for (const limit of [0, 1001, 1.5]) {
          await expect(store.readMessages(chatId, { limit, order: "asc" })).rejects.toMatchObject({
            code: "INTERNAL_ERROR",
          });
        }
      });
    });

    describe("idempotency records (D2, D12)", () => {
      it("a put creates the record and get returns it", async () => {
        const created = record(ids.chat(), "c-1", 1);
        expect(await store.putIdempotencyRecords([created])).toEqual([]);
        expect(await store.getIdempotencyRecord(created.chatId, "c-1")).toEqual(created);
        expect(await store.getIdempotencyRecord(created.chatId, "c-2")).toBeUndefined();
      });

      it("a retry with another sequence returns the stored original and keeps it (invariant 2)", async () => {
        const chatId = ids.chat();
        const original = record(chatId, "retry", 7);
        await store.putIdempotencyRecords([original]);
        const retry = record(chatId, "retry", 9);
        expect(await store.putIdempotencyRecords([retry])).toEqual([original]);
        expect(await store.getIdempotencyRecord(chatId, "retry")).toEqual(original);
      });

      it("putting the very same record again (a retry of a put that landed) reports nothing", async () => {
        const created = record(ids.chat(), "same", 3);
        await store.putIdempotencyRecords([created]);
        expect(await store.putIdempotencyRecords([created])).toEqual([]);
        expect(await store.getIdempotencyRecord(created.chatId, "same")).toEqual(created);
      });

      it("a batch returns only the records that already existed, as stored, and creates the others", async () => {
        const chatId = ids.chat();
        const existing = record(chatId, "b", 2);
        await store.putIdempotencyRecords([existing]);
        const batch = [record(chatId, "a", 10), record(chatId, "b", 11), record(chatId, "c", 12)];
        expect(await store.putIdempotencyRecords(batch)).toEqual([existing]);
        expect((await store.getIdempotencyRecord(chatId, "a"))?.sequence).toBe(10);
        expect((await store.getIdempotencyRecord(chatId, "c"))?.sequence).toBe(12);
      });

      it("an expired record is invisible to get and a put replaces it", async () => {
        const chatId = ids.chat();
        await store.putIdempotencyRecords([record(chatId, "old", 1, 1_000)]);
        fixture.clock.advance(1_001);
        expect(await store.getIdempotencyRecord(chatId, "old")).toBeUndefined();
        const replacement = record(chatId, "old", 2);
        expect(await store.putIdempotencyRecords([replacement])).toEqual([]);
        expect(await store.getIdempotencyRecord(chatId, "old")).toEqual(replacement);
      });

      it("a record is still in force at exactly its expiry time", async () => {
        const chatId = ids.chat();
        const original = record(chatId, "edge", 1, 1_000);
        await store.putIdempotencyRecords([original]);
        fixture.clock.advance(1_000);
        expect(await store.getIdempotencyRecord(chatId, "edge")).toEqual(original);
        expect(await store.putIdempotencyRecords([record(chatId, "edge", 2)])).toEqual([original]);
      });

      it("concurrent puts of one key: one record is created and every other caller learns it", async () => {
        const chatId = ids.chat();
        const candidates = Array.from({ length: 6 }, (_, index) => record(chatId, "race", index + 1));
        const results = await Promise.all(
          candidates.map((candidate) => store.putIdempotencyRecords([candidate])),
        );
        const stored = await store.getIdempotencyRecord(chatId, "race");
        expect(results.filter((existing) => existing.length === 0)).toHaveLength(1);
        expect(candidates).toContainEqual(stored);
        for (const existing of results.filter((list) => list.length > 0)) expect(existing).toEqual([stored]);
      });
    });

    describe("moving a claim whose sequence another writer took (D2 fencing)", () => {
      it("moves the record only while it still holds the expected sequence", async () => {
        const chatId = ids.chat();
        const claim = record(chatId, "moved", 4);
        await store.putIdempotencyRecords([claim]);
        expect(await store.moveIdempotencyRecord(chatId, "moved", seq(4), seq(6))).toEqual({
          ...claim,
          sequence: 6,
        });
        // A second mover that still believes in 4 learns where the record went, and changes nothing.
        expect(await store.moveIdempotencyRecord(chatId, "moved", seq(4), seq(9))).toEqual({
          ...claim,
          sequence: 6,
        });
        expect((await store.getIdempotencyRecord(chatId, "moved"))?.sequence).toBe(6);
      });

      it("concurrent movers from one sequence: exactly one target wins and everybody sees it", async () => {
        const chatId = ids.chat();
        await store.putIdempotencyRecords([record(chatId, "contended", 2)]);
        const targets = [5, 6, 7, 8, 9];
        const results = await Promise.all(
          targets.map((to) => store.moveIdempotencyRecord(chatId, "contended", seq(2), seq(to))),
        );
        const stored = await store.getIdempotencyRecord(chatId, "contended");
        expect(targets).toContain(stored?.sequence);
        for (const result of results) expect(result?.sequence).toBe(stored?.sequence);
      });

      it("answers undefined for a missing or expired record and does not create one", async () => {
        const chatId = ids.chat();
        expect(await store.moveIdempotencyRecord(chatId, "none", seq(1), seq(2))).toBeUndefined();
        await store.putIdempotencyRecords([record(chatId, "lapsed", 1, 1_000)]);
        fixture.clock.advance(1_001);
        expect(await store.moveIdempotencyRecord(chatId, "lapsed", seq(1), seq(2))).toBeUndefined();
        expect(await store.getIdempotencyRecord(chatId, "none")).toBeUndefined();
      });
    });

    describe("chat counters (D2, D4)", () => {
      it("counters of a chat never advanced read as undefined", async () => {
        expect(await store.getCounters(ids.chat())).toBeUndefined();
      });

      it("the first advance creates the counters with the field not given at 0", async () => {
        const chatId = ids.chat();
        const now = fixture.clock.now();
        const expected = { chatId, highWater: 5, publishedThrough: 0, updatedAt: now };
        expect(await store.advanceCounters(chatId, { highWater: 5 })).toEqual(expected);
        expect(await store.getCounters(chatId)).toEqual(expected);
      });

      it("highWater and publishedThrough rise independently and are never lowered", async () => {
        const chatId = ids.chat();
        const both = (c: { highWater: number; publishedThrough: number }) => [
          c.highWater,
          c.publishedThrough,
        ];
        expect(both(await store.advanceCounters(chatId, { highWater: 10 }))).toEqual([10, 0]);
        expect(both(await store.advanceCounters(chatId, { publishedThrough: 5 }))).toEqual([10, 5]);
        expect(both(await store.advanceCounters(chatId, { highWater: 7 }))).toEqual([10, 5]);
        expect(both(await store.advanceCounters(chatId, { highWater: 12, publishedThrough: 3 }))).toEqual([
          12, 5,
        ]);
        expect(both(await store.advanceCounters(chatId, { highWater: 11, publishedThrough: 9 }))).toEqual([
          12, 9,
        ]);
        expect(both(await store.advanceCounters(chatId, { highWater: 20, publishedThrough: 20 }))).toEqual([
          20, 20,
        ]);
        const stored = await store.getCounters(chatId);
        expect(stored && both(stored)).toEqual([20, 20]);
      });

      it("an advance that raises nothing returns the stored counters and leaves updatedAt alone", async () => {
        const chatId = ids.chat();
        const before = await store.advanceCounters(chatId, { highWater: 8, publishedThrough: 8 });
        fixture.clock.advance(5_000);
        expect(await store.advanceCounters(chatId, { highWater: 8, publishedThrough: 2 })).toEqual(before);
        expect(await store.advanceCounters(chatId, {})).toEqual(before);
        expect(await store.getCounters(chatId)).toEqual(before);
      });

      it("concurrent advances keep the highest value of each field", async () => {
        const chatId = ids.chat();
        const values = [3, 9, 1, 7, 5, 8, 2, 6, 4];
        await Promise.all(
          values.flatMap((value) => [
            store.advanceCounters(chatId, { highWater: value }),
            store.advanceCounters(chatId, { publishedThrough: 10 - value }),
          ]),
        );
        expect(await store.getCounters(chatId)).toMatchObject({ highWater: 9, publishedThrough: 9 });
      });

      it("negative or fractional counter values are refused", async () => {
        for (const advance of [{ highWater: -1 }, { publishedThrough: 1.5 }]) {
          await expect(store.advanceCounters(ids.chat(), advance)).rejects.toMatchObject({
            code: "INTERNAL_ERROR",
          });
        }
      });
    });

    describe("delivery state (D8)", () => {
      it("a first ack creates the state; unknown states read as undefined", async () => {
        const [userId, chatId] = [ids.user(), ids.chat()];
        expect(await store.getDeliveryState(userId, chatId)).toBeUndefined();
        expect(await store.advanceDeliveryState(userId, chatId, seq(4))).toBe(true);
        expect(await store.getDeliveryState(userId, chatId)).toEqual({
          userId,
          chatId,
          lastAckedSequence: 4,
          updatedAt: fixture.clock.now(),
        });
      });

      it("delivery state never decreases: an equal or lower ack returns false and changes nothing (invariant 4)", async () => {
        const [userId, chatId] = [ids.user(), ids.chat()];
        await store.advanceDeliveryState(userId, chatId, seq(10));
        const stored = await store.getDeliveryState(userId, chatId);
        fixture.clock.advance(1_000);
        expect(await store.advanceDeliveryState(userId, chatId, seq(10))).toBe(false);
        expect(await store.advanceDeliveryState(userId, chatId, seq(3))).toBe(false);
        expect(await store.getDeliveryState(userId, chatId)).toEqual(stored);
        expect(await store.advanceDeliveryState(userId, chatId, seq(11))).toBe(true);
        expect((await store.getDeliveryState(userId, chatId))?.lastAckedSequence).toBe(11);
      });

      it("concurrent acks of one sequence have exactly one winner", async () => {
        const [userId, chatId] = [ids.user(), ids.chat()];
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.advanceDeliveryState(userId, chatId, seq(5))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it("concurrent acks of different sequences leave the highest", async () => {
        const [userId, chatId] = [ids.user(), ids.chat()];
        await Promise.all(
          [4, 9, 2, 7, 5].map((value) => store.advanceDeliveryState(userId, chatId, seq(value))),
        );
        expect((await store.getDeliveryState(userId, chatId))?.lastAckedSequence).toBe(9);
      });

      it("listDeliveryStates returns one user's states ordered by chat id", async () => {
        const [userId, otherUser] = [ids.user(), ids.user()];
        const chats = [ids.chat(), ids.chat(), ids.chat()];
        for (const [index, chatId] of [...chats].reverse().entries()) {
          await store.advanceDeliveryState(userId, chatId, seq(index + 1));
        }
        await store.advanceDeliveryState(otherUser, chats[0] ?? ids.chat(), seq(1));
        const listed = await store.listDeliveryStates(userId);
        expect(listed.map((state) => state.chatId)).toEqual(chats);
        expect(listed.every((state) => state.userId === userId)).toBe(true);
        expect(await store.listDeliveryStates(ids.user())).toEqual([]);
      });

      it("a sequence outside 1..2^53-1 is refused", async () => {
        await expect(store.advanceDeliveryState(ids.user(), ids.chat(), 0 as Sequence)).rejects.toMatchObject(
          {
            code: "INTERNAL_ERROR",
          },
        );
      });
    });
  });
}
