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

    /** A chat's blocks (D16) of the given sizes, one after another from sequence 1. */
    async function chain(chatId: ChatId, sizes: readonly number[]): Promise<StoredMessage[]> {
      const all: StoredMessage[] = [];
      for (const size of sizes) {
        const block = messages(chatId, all.length + 1, all.length + size);
        expect(await store.appendBlock(chatId, block)).toBe("written");
        all.push(...block);
      }
      return all;
    }

    describe("blocks (D16)", () => {
      it("a block is read back exactly as written, message by message and as a block", async () => {
        const chatId = ids.chat();
        const block = messages(chatId, 1, 3);
        expect(await store.appendBlock(chatId, block)).toBe("written");
        for (const written of block)
          expect(await store.getMessage(chatId, written.sequence)).toEqual(written);
        expect(await store.getMessage(chatId, seq(4))).toBeUndefined();
        expect(await store.getMessage(ids.chat(), seq(1))).toBeUndefined();
        expect(await store.readBlocksAfter(chatId, 0)).toEqual([
          { chatId, firstSequence: 1, lastSequence: 3, messages: block },
        ]);
        expect(await store.readTail(chatId)).toBe(3);
        expect(await store.readTail(ids.chat())).toBe(0);
      });

      it("a second put at a taken first sequence is refused and the first block stays (invariant 1)", async () => {
        const chatId = ids.chat();
        const first = [message(chatId, 1, "first owner"), message(chatId, 2, "first owner")];
        const second = [message(chatId, 1, "stale owner")];
        expect(await store.appendBlock(chatId, first)).toBe("written");
        expect(await store.appendBlock(chatId, second)).toBe("taken");
        expect(await store.readMessages(chatId, { limit: 10, order: "asc" })).toEqual(first);
      });

      it("only an equal key conflicts (attribute_not_exists): a put inside another block is not refused", async () => {
        // Rule 1 keeps writers from ever doing this; the store must not pretend to stop it.
        const chatId = ids.chat();
        await store.appendBlock(chatId, messages(chatId, 1, 3));
        expect(await store.appendBlock(chatId, [message(chatId, 2, "overlapping")])).toBe("written");
        expect((await store.readBlocksAfter(chatId, 0)).map((block) => block.firstSequence)).toEqual([1, 2]);
        // Reads still never show a sequence twice.
        expect(sequencesOf(await store.readMessages(chatId, { limit: 10, order: "asc" }))).toEqual([1, 2, 3]);
      });

      it("concurrent puts at one first sequence: exactly one is written and its content is stored", async () => {
        const chatId = ids.chat();
        const candidates = Array.from({ length: 8 }, (_, index) => [message(chatId, 1, `writer ${index}`)]);
        const results = await Promise.all(candidates.map((block) => store.appendBlock(chatId, block)));
        const winners = results.flatMap((result, index) => (result === "written" ? [index] : []));
        expect(winners).toHaveLength(1);
        expect(await store.getMessage(chatId, seq(1))).toEqual(candidates[winners[0] ?? -1]?.[0]);
      });

      it("an empty block, a block of another chat, with a gap or out of order is refused before anything is written", async () => {
        const chatId = ids.chat();
        const refused = [
          [],
          [message(chatId, 1), message(ids.chat(), 2)],
          [message(chatId, 1), message(chatId, 3)],
          [message(chatId, 2), message(chatId, 1)],
        ];
        for (const block of refused) {
          await expect(store.appendBlock(chatId, block)).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
        }
        expect(await store.readTail(chatId)).toBe(0);
      });

      it("rule 7: reads never assume a block size (blocks of 1, 3 and 50 mixed)", async () => {
        const chatId = ids.chat();
        const all = await chain(chatId, [1, 3, 50, 1, 3]);
        const expectRange = async (range: Parameters<MessageStore["readMessages"]>[1], expected: number[]) =>
          expect(sequencesOf(await store.readMessages(chatId, range))).toEqual(expected);
        const span = (from: number, to: number) =>
          from <= to
            ? Array.from({ length: to - from + 1 }, (_, i) => from + i)
            : Array.from({ length: from - to + 1 }, (_, i) => from - i);
        // After a sequence in the middle of a block: the block holding the next one is found first.
        await expectRange({ after: 2, limit: 3, order: "asc" }, [3, 4, 5]);
        await expectRange({ after: 10, limit: 5, order: "asc" }, span(11, 15));
        await expectRange({ after: 54, limit: 10, order: "asc" }, span(55, 58));
        await expectRange({ after: 3, before: 7, limit: 10, order: "asc" }, [4, 5, 6]);
        await expectRange({ after: 0, limit: 1000, order: "asc" }, span(1, 58));
        await expectRange({ before: 30, limit: 4, order: "desc" }, [29, 28, 27, 26]);
        await expectRange({ before: 58, after: 53, limit: 10, order: "desc" }, [57, 56, 55, 54]);
        await expectRange({ limit: 2, order: "desc" }, [58, 57]);
        expect(await store.getMessage(chatId, seq(30))).toEqual(all[29]);
        const after = await store.readBlocksAfter(chatId, 20);
        expect(after.map((block) => [block.firstSequence, block.lastSequence])).toEqual([
          [5, 54],
          [55, 55],
          [56, 58],
        ]);
        expect(await store.readBlocksAfter(chatId, 58)).toEqual([]);
        expect(await store.readTail(chatId)).toBe(58);
      });
    });

    describe("reading ranges", () => {
      let chatId: ChatId;
      beforeAll(async () => {
        chatId = ids.chat();
        await chain(chatId, [2, 1, 4, 3]);
        // Another chat's messages never leak into the range.
        await chain(ids.chat(), [3]);
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
        await store.appendBlock(gappy, messages(gappy, 1, 2));
        await store.appendBlock(gappy, [message(gappy, 5)]);
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

    describe("the index of client_message_ids (D16, D12)", () => {
      const key = (r: { chatId: ChatId; clientMessageId: string }) => ({
        chatId: r.chatId,
        clientMessageId: r.clientMessageId,
      });

      it("a put record is read back; absent keys are absent", async () => {
        const created = record(ids.chat(), "c-1", 1);
        await store.putIndexRecords([created]);
        expect(
          await store.getIndexRecords([key(created), { chatId: created.chatId, clientMessageId: "c-2" }]),
        ).toEqual([created]);
      });

      it("a record of the same key replaces the stored one (records are made from stored messages only)", async () => {
        const chatId = ids.chat();
        await store.putIndexRecords([record(chatId, "again", 3)]);
        const later = record(chatId, "again", 9);
        await store.putIndexRecords([later]);
        expect(await store.getIndexRecords([key(later)])).toEqual([later]);
      });

      it("rule 8: an expired record is never written, and one that expired is invisible", async () => {
        const chatId = ids.chat();
        const lapsing = record(chatId, "lapsing", 1, 1_000);
        await store.putIndexRecords([lapsing, record(chatId, "expired", 2, -1)]);
        expect(await store.getIndexRecords([key(lapsing), { chatId, clientMessageId: "expired" }])).toEqual([
          lapsing,
        ]);
        fixture.clock.advance(1_000);
        // Still in force at exactly its expiry time.
        expect(await store.getIndexRecords([key(lapsing)])).toEqual([lapsing]);
        fixture.clock.advance(1);
        expect(await store.getIndexRecords([key(lapsing)])).toEqual([]);
      });

      it("many keys of many chats in one call: more than one BatchGetItem (100) and BatchWriteItem (25)", async () => {
        const records = Array.from({ length: 130 }, (_, index) =>
          record(ids.chat(), `many-${index}`, index + 1),
        );
        await store.putIndexRecords(records);
        const found = await store.getIndexRecords(records.map(key));
        const byKey = (r: { chatId: string; clientMessageId: string }) => `${r.chatId}/${r.clientMessageId}`;
        expect(found.map(byKey).sort()).toEqual(records.map(byKey).sort());
        expect(await store.getIndexRecords([])).toEqual([]);
      });
    });

    describe("indexed_through (D16 rule 3)", () => {
      it("moves by compare-and-set from the stored value (missing counts as 0) and reports the stored counters", async () => {
        const chatId = ids.chat();
        expect(await store.compareAndSetIndexedThrough(chatId, 0, 5)).toMatchObject({ indexedThrough: 5 });
        // A stale mover changes nothing and learns the stored value.
        expect(await store.compareAndSetIndexedThrough(chatId, 0, 3)).toMatchObject({ indexedThrough: 5 });
        expect(await store.compareAndSetIndexedThrough(chatId, 5, 9)).toMatchObject({ indexedThrough: 9 });
        expect(await store.getCounters(chatId)).toMatchObject({ indexedThrough: 9, highWater: 0 });
      });

      it("concurrent movers from one value: exactly one wins and every caller sees the stored value", async () => {
        const chatId = ids.chat();
        const targets = [4, 6, 8, 10];
        const results = await Promise.all(
          targets.map((to) => store.compareAndSetIndexedThrough(chatId, 0, to)),
        );
        const stored = (await store.getCounters(chatId))?.indexedThrough;
        expect(targets).toContain(stored);
        for (const result of results) expect(result.indexedThrough).toBe(stored);
      });

      it("the other counters and indexed_through leave each other alone", async () => {
        const chatId = ids.chat();
        await store.advanceCounters(chatId, { highWater: 7, publishedThrough: 4 });
        expect(await store.compareAndSetIndexedThrough(chatId, 0, 6)).toMatchObject({
          highWater: 7,
          publishedThrough: 4,
          indexedThrough: 6,
        });
        expect(await store.advanceCounters(chatId, { highWater: 9 })).toMatchObject({
          highWater: 9,
          publishedThrough: 4,
          indexedThrough: 6,
        });
      });
    });

    describe("chat counters (D2, D4)", () => {
      it("counters of a chat never advanced read as undefined", async () => {
        expect(await store.getCounters(ids.chat())).toBeUndefined();
      });

      it("the first advance creates the counters with the field not given at 0", async () => {
        const chatId = ids.chat();
        const now = fixture.clock.now();
        const expected = { chatId, highWater: 5, publishedThrough: 0, indexedThrough: 0, updatedAt: now };
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
