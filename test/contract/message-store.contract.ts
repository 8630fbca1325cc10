import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../runtime/clock.js";
import { type ChatId, IdFactory, type Sequence, toSequence } from "../../runtime/ids.js";
import type {
  IdempotencyRecord,
  IndexKey,
  MessageBlock,
  MessageRange,
  MessageStore,
  StoredMessage,
} from "../../runtime/ports/message-store.js";

export interface MessageStoreFixture {
  readonly store: MessageStore;
  /** The clock the store reads `now` from; tests move it to make records expire (D12). */
  readonly clock: ManualClock;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every MessageStore adapter must have (ARCHITECTURE.md D4, D8, D12, D16 and invariants 1, 2,
 * 4). One fixture per suite; every test works on fresh chat and user ids, so tests never see each other. The
 * DynamoDB-only half of D16 (items of the per-message format read as blocks of one) is in
 * runtime/adapters/dynamodb/tables.test.ts, since only that adapter can hold such items.
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
    const spansOf = (blocks: readonly MessageBlock[]): number[][] =>
      blocks.map((block) => [block.firstSequence, block.lastSequence]);
    const asBlock = (chatId: ChatId, list: readonly StoredMessage[]): MessageBlock => ({
      chatId,
      firstSequence: (list[0] as StoredMessage).sequence,
      lastSequence: (list.at(-1) as StoredMessage).sequence,
      messages: list,
    });
    const record = (chatId: ChatId, clientMessageId: string, sequence: number, ttlMs = 60_000) => ({
      chatId,
      clientMessageId,
      messageId: ids.message(),
      sequence: seq(sequence),
      createdAt: fixture.clock.now(),
      expiresAt: fixture.clock.now() + ttlMs,
    });
    const indexKey = (r: IndexKey): IndexKey => ({ chatId: r.chatId, clientMessageId: r.clientMessageId });
    const byIndexKey = (r: IndexKey): string => `${r.chatId}/${r.clientMessageId}`;
    const sortedByKey = (records: readonly IdempotencyRecord[]): IdempotencyRecord[] =>
      [...records].sort((a, b) => (byIndexKey(a) < byIndexKey(b) ? -1 : 1));

    beforeAll(async () => {
      fixture = await make();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    /** Puts blocks spanning the given sequences, each of which must be written; returns them as stored. */
    async function putBlocks(chatId: ChatId, spans: readonly (readonly [number, number])[]) {
      const blocks: MessageBlock[] = [];
      for (const [from, to] of spans) {
        const block = messages(chatId, from, to);
        expect(await store.appendBlock(chatId, block)).toBe("written");
        blocks.push(asBlock(chatId, block));
      }
      return { blocks, all: blocks.flatMap((block) => block.messages) };
    }

    /** A chain of blocks of the given sizes, one after another from sequence 1 (D16 rule 1). */
    async function chain(chatId: ChatId, sizes: readonly number[]) {
      const spans: [number, number][] = [];
      let next = 1;
      for (const size of sizes) {
        spans.push([next, next + size - 1]);
        next += size;
      }
      return putBlocks(chatId, spans);
    }

    describe("blocks (D16)", () => {
      it("a block is read back exactly as written: by readMessages, getMessage, readBlocksAfter and readTail", async () => {
        const chatId = ids.chat();
        const block = messages(chatId, 1, 3);
        expect(await store.appendBlock(chatId, block)).toBe("written");
        expect(await store.readMessages(chatId, { limit: 10, order: "asc" })).toEqual(block);
        expect(await store.readMessages(chatId, { limit: 10, order: "desc" })).toEqual([...block].reverse());
        for (const written of block) {
          expect(await store.getMessage(chatId, written.sequence)).toEqual(written);
        }
        expect(await store.getMessage(chatId, seq(4))).toBeUndefined();
        expect(await store.getMessage(ids.chat(), seq(1))).toBeUndefined();
        expect(await store.readBlocksAfter(chatId, 0)).toEqual([asBlock(chatId, block)]);
        expect(await store.readTail(chatId)).toBe(3);
        expect(await store.readTail(ids.chat())).toBe(0);
        expect(await store.readBlocksAfter(ids.chat(), 0)).toEqual([]);
      });

      it("a second put at a taken first sequence is refused and the first block stays (invariant 1)", async () => {
        const chatId = ids.chat();
        const first = [message(chatId, 1, "first owner"), message(chatId, 2, "first owner")];
        const second = [message(chatId, 1, "stale owner"), message(chatId, 2, "stale owner")];
        expect(await store.appendBlock(chatId, first)).toBe("written");
        expect(await store.appendBlock(chatId, second)).toBe("taken");
        expect(await store.appendBlock(chatId, [message(chatId, 1, "shorter")])).toBe("taken");
        expect(await store.readMessages(chatId, { limit: 10, order: "asc" })).toEqual(first);
        expect(await store.readBlocksAfter(chatId, 0)).toEqual([asBlock(chatId, first)]);
        expect(await store.getMessage(chatId, seq(1))).toEqual(first[0]);
        expect(await store.readTail(chatId)).toBe(2);
      });

      it("concurrent puts at one first sequence: exactly one is written and its whole block is stored", async () => {
        const chatId = ids.chat();
        const candidates = Array.from({ length: 8 }, (_, writer) =>
          Array.from({ length: (writer % 3) + 1 }, (_, index) =>
            message(chatId, index + 1, `writer ${writer}`),
          ),
        );
        const results = await Promise.all(candidates.map((block) => store.appendBlock(chatId, block)));
        const winners = results.flatMap((result, index) => (result === "written" ? [index] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((result) => result === "taken")).toHaveLength(candidates.length - 1);
        const winner = candidates[winners[0] ?? -1] ?? [];
        expect(await store.readBlocksAfter(chatId, 0)).toEqual([asBlock(chatId, winner)]);
        expect(await store.readTail(chatId)).toBe(winner.length);
      });

      it("only an equal key conflicts (attribute_not_exists): a put overlapping another block is not refused", async () => {
        // Rule 1 keeps writers from ever doing this; no adapter may pretend to stop it, or the memory adapter
        // would hide from the simulation a wrong put position that DynamoDB accepts.
        const chatId = ids.chat();
        const { all } = await putBlocks(chatId, [[1, 3]]);
        const overlapping = [message(chatId, 2, "overlapping"), message(chatId, 3, "overlapping")];
        expect(await store.appendBlock(chatId, [...overlapping, message(chatId, 4, "overlapping")])).toBe(
          "written",
        );
        expect(await store.appendBlock(chatId, [message(chatId, 3, "inside")])).toBe("written");
        expect(spansOf(await store.readBlocksAfter(chatId, 0))).toEqual([
          [1, 3],
          [2, 4],
          [3, 3],
        ]);
        // The tail is the last sequence of the block with the greatest first sequence, whatever lies below.
        expect(await store.readTail(chatId)).toBe(3);
        // Reads still never show a sequence twice, and emit the first block's copy of what overlaps.
        const read = await store.readMessages(chatId, { limit: 10, order: "asc" });
        expect(sequencesOf(read)).toEqual([1, 2, 3, 4]);
        expect(read.slice(0, 3)).toEqual(all);
      });

      it("a put above a gap is not refused either: the store does not check positions", async () => {
        const chatId = ids.chat();
        await putBlocks(chatId, [
          [1, 2],
          [7, 9],
        ]);
        expect(await store.readTail(chatId)).toBe(9);
        expect(sequencesOf(await store.readMessages(chatId, { limit: 10, order: "asc" }))).toEqual([
          1, 2, 7, 8, 9,
        ]);
        expect(spansOf(await store.readBlocksAfter(chatId, 3))).toEqual([[7, 9]]);
      });

      it("an empty block, a block of another chat, with a gap, out of order or at sequence 0 is refused before anything is written", async () => {
        const [chatId, other] = [ids.chat(), ids.chat()];
        const refused = [
          [],
          [message(chatId, 1), message(other, 2)],
          [message(other, 1)],
          [message(chatId, 1), message(chatId, 3)],
          [message(chatId, 2), message(chatId, 1)],
          [message(chatId, 1), message(chatId, 1)],
          [{ ...message(chatId, 1), sequence: 0 as Sequence }, message(chatId, 1)],
        ];
        for (const block of refused) {
          await expect(store.appendBlock(chatId, block)).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
        }
        for (const chat of [chatId, other]) {
          expect(await store.readTail(chat)).toBe(0);
          expect(await store.readBlocksAfter(chat, 0)).toEqual([]);
          expect(await store.getMessage(chat, seq(1))).toBeUndefined();
        }
      });
    });

    describe("rule 7: reads never assume a block size", () => {
      const SPANS = [
        [1, 1],
        [2, 4],
        [5, 54],
        [55, 55],
        [56, 58],
        [61, 62],
      ] as const;
      /** Every position next to a block's edge, the middle of the big block, the gap and past the tail. */
      const EDGES = [-1, 0, 1, 2, 3, 4, 5, 6, 29, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63];
      let chatId: ChatId;
      let blocks: MessageBlock[];
      let all: StoredMessage[];
      /** What a read must return, computed from the messages as written. */
      const expected = (range: MessageRange): StoredMessage[] => {
        const inRange = all.filter(
          (m) =>
            (range.after === undefined || m.sequence > range.after) &&
            (range.before === undefined || m.sequence < range.before),
        );
        return (range.order === "asc" ? inRange : inRange.reverse()).slice(0, range.limit);
      };
      const expectRead = async (range: MessageRange, sequences: readonly number[]) => {
        const read = await store.readMessages(chatId, range);
        expect(sequencesOf(read), JSON.stringify(range)).toEqual(sequences);
        expect(read, JSON.stringify(range)).toEqual(expected(range));
      };
      const span = (from: number, to: number): number[] =>
        from <= to
          ? Array.from({ length: to - from + 1 }, (_, i) => from + i)
          : Array.from({ length: from - to + 1 }, (_, i) => from - i);

      beforeAll(async () => {
        chatId = ids.chat();
        // Blocks of 1, 3 and 50 mixed, and a gap (59, 60) that only a put at a wrong position could leave.
        ({ blocks, all } = await putBlocks(chatId, SPANS));
      });

      it("ascending after a sequence inside a block starts right after it", async () => {
        await expectRead({ after: 2, limit: 3, order: "asc" }, [3, 4, 5]);
        await expectRead({ after: 3, limit: 1, order: "asc" }, [4]);
        await expectRead({ after: 54, limit: 10, order: "asc" }, [55, 56, 57, 58, 61, 62]);
        await expectRead({ after: 57, limit: 10, order: "asc" }, [58, 61, 62]);
        await expectRead({ after: 59, limit: 10, order: "asc" }, [61, 62]);
        await expectRead({ after: 62, limit: 10, order: "asc" }, []);
      });

      it("a limit smaller than a block stops inside it, from either end", async () => {
        await expectRead({ after: 10, limit: 5, order: "asc" }, span(11, 15));
        await expectRead({ after: 4, limit: 2, order: "asc" }, [5, 6]);
        await expectRead({ before: 30, limit: 4, order: "desc" }, span(29, 26));
        await expectRead({ before: 58, limit: 2, order: "desc" }, [57, 56]);
        await expectRead({ limit: 1, order: "desc" }, [62]);
      });

      it("after and before inside blocks bound an ascending or a descending read", async () => {
        await expectRead({ after: 3, before: 7, limit: 10, order: "asc" }, [4, 5, 6]);
        await expectRead({ after: 20, before: 25, limit: 10, order: "asc" }, span(21, 24));
        await expectRead({ after: 1, before: 57, limit: 100, order: "asc" }, span(2, 56));
        await expectRead({ before: 58, after: 53, limit: 10, order: "desc" }, span(57, 54));
        await expectRead({ before: 40, after: 30, limit: 3, order: "desc" }, [39, 38, 37]);
        await expectRead({ before: 62, after: 3, limit: 100, order: "desc" }, [61, ...span(58, 4)]);
      });

      it("ranges from every edge of every block read exactly what was written", async () => {
        const ranges: MessageRange[] = [];
        for (const at of EDGES) {
          for (const limit of [1, 1000]) {
            ranges.push({ after: at, limit, order: "asc" }, { before: at + 1, limit, order: "desc" });
          }
          ranges.push(
            { after: at, before: at + 6, limit: 1000, order: "asc" },
            { before: at + 1, after: at - 5, limit: 1000, order: "desc" },
          );
        }
        for (const range of ranges) {
          expect(await store.readMessages(chatId, range), JSON.stringify(range)).toEqual(expected(range));
        }
      });

      it("getMessage finds a sequence in the middle or at either end of a block, and nothing in a gap", async () => {
        for (const at of EDGES.filter((edge) => edge >= 0)) {
          expect(await store.getMessage(chatId, seq(at + 1)), `sequence ${at + 1}`).toEqual(
            all.find((m) => m.sequence === at + 1),
          );
        }
        expect(await store.getMessage(chatId, seq(30))).toEqual(all[29]);
      });

      it("readBlocksAfter(s) returns the block holding s + 1 first, then every later block", async () => {
        expect(await store.readBlocksAfter(chatId, 0)).toEqual(blocks);
        expect(spansOf(await store.readBlocksAfter(chatId, 20))).toEqual([
          [5, 54],
          [55, 55],
          [56, 58],
          [61, 62],
        ]);
        expect(spansOf(await store.readBlocksAfter(chatId, 54))).toEqual([
          [55, 55],
          [56, 58],
          [61, 62],
        ]);
        for (const after of EDGES) {
          expect(await store.readBlocksAfter(chatId, after), `after ${after}`).toEqual(
            blocks.filter((block) => block.lastSequence > after),
          );
        }
        expect(await store.readTail(chatId)).toBe(62);
      });

      it("many small blocks are read across pages, in either direction", async () => {
        const many = ids.chat();
        // 120 blocks: more than one page of every read over block keys.
        const written = await chain(
          many,
          Array.from({ length: 120 }, (_, index) => (index % 3) + 1),
        );
        expect(await store.readBlocksAfter(many, 0)).toEqual(written.blocks);
        expect(await store.readBlocksAfter(many, 5)).toEqual(
          written.blocks.filter((block) => block.lastSequence > 5),
        );
        expect(await store.readMessages(many, { limit: 1000, order: "asc" })).toEqual(written.all);
        expect(await store.readMessages(many, { limit: 1000, order: "desc" })).toEqual(
          [...written.all].reverse(),
        );
        expect(sequencesOf(await store.readMessages(many, { after: 100, limit: 50, order: "asc" }))).toEqual(
          span(101, 150),
        );
        expect(
          sequencesOf(await store.readMessages(many, { before: 200, limit: 70, order: "desc" })),
        ).toEqual(span(199, 130));
        expect(await store.readTail(many)).toBe(240);
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
        expect(read.every((m) => m.chatId === chatId)).toBe(true);
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
        const nothing: MessageRange[] = [
          { after: 5, before: 6, limit: 10, order: "asc" },
          { after: 5, before: 6, limit: 10, order: "desc" },
          { after: 7, before: 3, limit: 10, order: "asc" },
          { after: 10, limit: 10, order: "asc" },
          { before: 1, limit: 10, order: "desc" },
          { after: Number.MAX_SAFE_INTEGER, limit: 10, order: "asc" },
        ];
        for (const range of nothing) {
          expect(await store.readMessages(chatId, range), JSON.stringify(range)).toEqual([]);
        }
        expect(await store.readMessages(ids.chat(), { limit: 10, order: "asc" })).toEqual([]);
        expect(await store.readMessages(ids.chat(), { limit: 10, order: "desc" })).toEqual([]);
      });

      it("a limit outside 1..1000 and bounds that are not integers are refused", async () => {
        const refused: MessageRange[] = [
          { limit: 0, order: "asc" },
          { limit: 1001, order: "asc" },
          { limit: 1.5, order: "desc" },
          { after: 1.5, limit: 10, order: "asc" },
          { before: Number.NaN, limit: 10, order: "desc" },
        ];
        for (const range of refused) {
          await expect(store.readMessages(chatId, range)).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
        }
      });
    });

    describe("the index of client_message_ids (D16, D12)", () => {
      it("a put record is read back at once (strongly consistent); absent keys are absent", async () => {
        const created = record(ids.chat(), "c-1", 1);
        await store.putIndexRecords([created]);
        expect(
          await store.getIndexRecords([
            indexKey(created),
            { chatId: created.chatId, clientMessageId: "c-2" },
          ]),
        ).toEqual([created]);
        // The same client_message_id in another chat is another key.
        expect(await store.getIndexRecords([{ chatId: ids.chat(), clientMessageId: "c-1" }])).toEqual([]);
        expect(await store.getIndexRecords([])).toEqual([]);
        await store.putIndexRecords([]);
      });

      it("a record of the same key replaces the stored one (records are made from stored messages only)", async () => {
        const chatId = ids.chat();
        await store.putIndexRecords([record(chatId, "again", 3)]);
        const later = record(chatId, "again", 9);
        await store.putIndexRecords([later]);
        expect(await store.getIndexRecords([indexKey(later)])).toEqual([later]);
      });

      it("a key asked for twice is answered once", async () => {
        const stored = record(ids.chat(), "twice", 1);
        await store.putIndexRecords([stored]);
        expect(await store.getIndexRecords([indexKey(stored), indexKey(stored)])).toEqual([stored]);
      });

      it("rule 8: an expired record is never written, and one that expired is invisible", async () => {
        const chatId = ids.chat();
        const lapsing = record(chatId, "lapsing", 1, 1_000);
        const expired = record(chatId, "expired", 2, -1);
        await store.putIndexRecords([lapsing, expired]);
        expect(await store.getIndexRecords([indexKey(lapsing), indexKey(expired)])).toEqual([lapsing]);
        fixture.clock.advance(1_000);
        // Still in force at exactly its expiry time.
        expect(await store.getIndexRecords([indexKey(lapsing)])).toEqual([lapsing]);
        fixture.clock.advance(1);
        expect(await store.getIndexRecords([indexKey(lapsing)])).toEqual([]);
      });

      it("keys of several chats in one call, several keys per chat", async () => {
        const chats = [ids.chat(), ids.chat(), ids.chat()];
        const records = chats.flatMap((chatId, c) =>
          [1, 2, 3].map((n) => record(chatId, `several-${n}`, c * 10 + n)),
        );
        await store.putIndexRecords(records);
        const absent = chats.map((chatId) => ({ chatId, clientMessageId: "several-4" }));
        const found = await store.getIndexRecords([...absent, ...records.map(indexKey)].reverse());
        expect(sortedByKey(found)).toEqual(sortedByKey(records));
      });

      it("more than 100 keys and more than 25 records in one call: every record is stored and found", async () => {
        const records = Array.from({ length: 130 }, (_, index) =>
          record(index % 2 === 0 ? ids.chat() : ids.chat(), `many-${index}`, index + 1),
        );
        await store.putIndexRecords(records);
        const absent = Array.from({ length: 30 }, (_, index) => ({
          chatId: ids.chat(),
          clientMessageId: `absent-${index}`,
        }));
        const found = await store.getIndexRecords([...records.map(indexKey), ...absent]);
        expect(sortedByKey(found)).toEqual(sortedByKey(records));
      });
    });

    describe("indexed_through (D16 rule 3)", () => {
      it("moves by compare-and-set from the stored value (missing counts as 0) and reports the stored counters", async () => {
        const chatId = ids.chat();
        const now = fixture.clock.now();
        const first = { chatId, highWater: 0, publishedThrough: 0, indexedThrough: 5, updatedAt: now };
        expect(await store.compareAndSetIndexedThrough(chatId, 0, 5)).toEqual(first);
        expect(await store.getCounters(chatId)).toEqual(first);
        // A stale mover changes nothing and learns the stored counters.
        fixture.clock.advance(1_000);
        expect(await store.compareAndSetIndexedThrough(chatId, 0, 3)).toEqual(first);
        expect(await store.compareAndSetIndexedThrough(chatId, 4, 9)).toEqual(first);
        const moved = { ...first, indexedThrough: 9, updatedAt: fixture.clock.now() };
        expect(await store.compareAndSetIndexedThrough(chatId, 5, 9)).toEqual(moved);
        expect(await store.getCounters(chatId)).toEqual(moved);
      });

      it("a compare-and-set from a value other than 0 on a missing item creates nothing", async () => {
        const chatId = ids.chat();
        expect(await store.compareAndSetIndexedThrough(chatId, 3, 7)).toMatchObject({
          chatId,
          highWater: 0,
          publishedThrough: 0,
          indexedThrough: 0,
        });
        expect(await store.getCounters(chatId)).toBeUndefined();
      });

      it("concurrent movers from one value: exactly one wins and every caller gets the stored counters", async () => {
        const chatId = ids.chat();
        await store.advanceCounters(chatId, { highWater: 12, publishedThrough: 3 });
        await store.compareAndSetIndexedThrough(chatId, 0, 2);
        const targets = [4, 6, 8, 10, 12];
        const results = await Promise.all(
          targets.map((to) => store.compareAndSetIndexedThrough(chatId, 2, to)),
        );
        const stored = await store.getCounters(chatId);
        expect(targets).toContain(stored?.indexedThrough);
        expect(stored).toMatchObject({ highWater: 12, publishedThrough: 3 });
        for (const result of results) expect(result).toEqual(stored);
      });

      it("advanceCounters leaves indexed_through alone, and compare-and-set leaves the other counters alone", async () => {
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
        expect(await store.advanceCounters(chatId, { publishedThrough: 8 })).toMatchObject({
          highWater: 9,
          publishedThrough: 8,
          indexedThrough: 6,
        });
        // Nothing rises: the stored counters, indexed_through included.
        expect(await store.advanceCounters(chatId, { highWater: 1 })).toMatchObject({ indexedThrough: 6 });
        // A compare-and-set lower than the counters is allowed: indexed_through is not a counter that rises.
        expect(await store.compareAndSetIndexedThrough(chatId, 6, 5)).toMatchObject({
          highWater: 9,
          publishedThrough: 8,
          indexedThrough: 5,
        });
        expect(await store.getCounters(chatId)).toMatchObject({
          highWater: 9,
          publishedThrough: 8,
          indexedThrough: 5,
        });
      });

      it("negative or fractional positions are refused", async () => {
        for (const [from, to] of [
          [-1, 2],
          [0, -1],
          [0, 1.5],
          [Number.NaN, 1],
        ] as const) {
          await expect(store.compareAndSetIndexedThrough(ids.chat(), from, to)).rejects.toMatchObject({
            code: "INTERNAL_ERROR",
          });
        }
      });
    });

    describe("chat counters (D4)", () => {
      it("counters of a chat never advanced read as undefined", async () => {
        expect(await store.getCounters(ids.chat())).toBeUndefined();
      });

      it("the first advance creates the counters with the field not given and indexed_through at 0", async () => {
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
        for (const sequence of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
          await expect(
            store.advanceDeliveryState(ids.user(), ids.chat(), sequence as Sequence),
          ).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
        }
      });
    });
  });
}
