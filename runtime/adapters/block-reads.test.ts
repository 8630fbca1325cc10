import { describe, expect, it } from "vitest";
import type { ChatId, MessageId, Sequence, UserId } from "../ids.js";
import type { MessageBlock, StoredMessage } from "../ports/message-store.js";
import { type BlockQuery, BlockReadingStore } from "./block-reads.js";

const CHAT = "chat_01JBLOCKREADS000000000000" as ChatId;

const message = (sequence: number): StoredMessage => ({
  chatId: CHAT,
  sequence: sequence as Sequence,
  messageId: `msg_${sequence}` as MessageId,
  senderId: "user_01JSENDER0000000000000000" as UserId,
  clientMessageId: `c${sequence}`,
  content: `m${sequence}`,
  contentType: "text/plain",
  createdAt: sequence,
});

/** Blocks of the given sizes from sequence 1, answering block-key ranges as the adapters do; counts requests. */
class CountingStore extends BlockReadingStore {
  readonly blocks: MessageBlock[] = [];
  requests = 0;

  constructor(sizes: readonly number[]) {
    super();
    let next = 1;
    for (const size of sizes) {
      const messages = Array.from({ length: size }, (_, i) => message(next + i));
      this.blocks.push({
        chatId: CHAT,
        firstSequence: next as Sequence,
        lastSequence: (next + size - 1) as Sequence,
        messages,
      });
      next += size;
    }
  }

  protected async queryBlocks(_chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]> {
    this.requests++;
    const inRange = this.blocks.filter(
      (block) =>
        (query.lowest === undefined || block.firstSequence >= query.lowest) &&
        (query.highest === undefined || block.firstSequence <= query.highest),
    );
    const ordered = query.order === "asc" ? inRange : [...inRange].reverse();
    return ordered.slice(0, query.limit);
  }
}

const sequences = (messages: readonly StoredMessage[]) => messages.map((m) => m.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("block reads size their requests by the chat's density", () => {
  it("a page of 500 from blocks of 50 takes one request once the chat's density is known", async () => {
    const store = new CountingStore(Array.from({ length: 40 }, () => 50));
    const first = await store.readMessages(CHAT, { after: 0, limit: 500, order: "asc" });
    expect(sequences(first)).toEqual(range(1, 500));
    const firstRequests = store.requests;
    expect(firstRequests).toBe(2);
    store.requests = 0;
    const second = await store.readMessages(CHAT, { after: 500, limit: 500, order: "asc" });
    expect(sequences(second)).toEqual(range(501, 1000));
    expect(store.requests).toBe(1);
    store.requests = 0;
    const history = await store.readMessages(CHAT, { before: 1001, limit: 500, order: "desc" });
    expect(sequences(history)).toEqual(range(501, 1000).reverse());
    expect(store.requests).toBe(1);
  });

  it("reads the same messages whatever density it remembers (rule 7: a guess only sizes requests)", async () => {
    // Dense blocks teach a density of 50; sparse blocks after them must still be read completely.
    const sizes = [...Array.from({ length: 20 }, () => 50), ...Array.from({ length: 600 }, () => 1)];
    const store = new CountingStore(sizes);
    expect(sequences(await store.readMessages(CHAT, { after: 0, limit: 500, order: "asc" }))).toEqual(
      range(1, 500),
    );
    expect(sequences(await store.readMessages(CHAT, { after: 1000, limit: 500, order: "asc" }))).toEqual(
      range(1001, 1500),
    );
    expect(sequences(await store.readMessages(CHAT, { after: 1550, limit: 100, order: "asc" }))).toEqual(
      range(1551, 1600),
    );
    expect(
      sequences(await store.readMessages(CHAT, { after: 977, before: 1010, limit: 500, order: "asc" })),
    ).toEqual(range(978, 1009));
  });
});
