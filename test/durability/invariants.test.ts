import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import { isAppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { PersistRequest } from "../../runtime/ingest-api.js";
import { engineEndpoint } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

const dynamodb = engineEndpoint("dynamodb");
const kafka = engineEndpoint("kafka");

const withCode = (code: string) => (error: unknown) => isAppError(error) && error.code === code;

/** ARCHITECTURE.md §6 invariants 1-7 at the ingest boundary, on dynalite and Kafka; only the clock is fake. */
describe.skipIf(!dynamodb || !kafka)("durability plane invariants", () => {
  let fixture: IngestFixture;
  let ingest: IngestService;
  const send = (
    chatId: ChatId,
    senderId: UserId,
    content: string,
    clientMessageId: string = randomUUID(),
  ): PersistRequest => ({
    chatId,
    senderId,
    clientMessageId,
    content,
    contentType: "text/plain",
  });

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "", kafka: kafka ?? "" });
    ingest = fixture.runtime();
  });
  afterAll(async () => {
    await ingest?.shutdown();
    await fixture?.cleanup();
  });

  it("gives concurrent sends of one chat distinct, gap-free sequences from 1 (invariant 1)", async () => {
    const users = [fixture.ids.user(), fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith(users);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => ingest.persist(send(chatId, users[i % 3] as UserId, `m${i}`))),
    );
    const sequences = results.map((result) => result.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(new Set(results.map((result) => result.messageId)).size).toBe(60);
    expect(results.every((result) => !result.deduplicated)).toBe(true);
  });

  it("answers a retried send with the first sequence and message_id and stores it once (invariant 2)", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    const first = await ingest.persist(send(chatId, alice, "hello", "7c9e6679-7425-40de-944b-e07fc1f90ae7"));
    await ingest.persist(send(chatId, bob, "in between"));
    // The same id with other content (a buggy client): the original is kept and returned.
    const retry = await ingest.persist(
      send(chatId, alice, "hello again?", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    );
    expect(retry).toEqual({ ...first, deduplicated: true });
    // A new process (nothing in memory) answers from the idempotency item.
    const restarted = fixture.runtime();
    try {
      const afterRestart = await restarted.persist(
        send(chatId, alice, "x", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
      );
      expect(afterRestart).toEqual({ ...first, deduplicated: true });
      const page = await restarted.sync({ chatId, userId: bob, afterSequence: 0 });
      expect(page.messages.map((m) => m.content)).toEqual(["hello", "in between"]);
    } finally {
      await restarted.shutdown();
    }
  });

  it("returns every acknowledged message by sync, in order, page by page (invariant 3)", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    for (let i = 1; i <= 25; i++) await ingest.persist(send(chatId, alice, `n${i}`));
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await ingest.sync({ chatId, userId: bob, afterSequence: after, limit: 10 });
      seen.push(...page.messages.map((m) => m.sequence));
      expect(page.lastSequence).toBe(25);
      if (!page.hasMore) break;
      after = page.nextSequence - 1;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const empty = await ingest.sync({ chatId, userId: bob, afterSequence: 25 });
    expect(empty).toMatchObject({ messages: [], hasMore: false, nextSequence: 26, lastSequence: 25 });
  });

  it("clamps a sync page to 500 and defaults it to 100 (D9)", async () => {
    const [alice] = [fixture.ids.user()];
    const chatId = await fixture.chatWith([alice]);
    for (let i = 0; i < 120; i++) await ingest.persist(send(chatId, alice, `p${i}`));
    expect((await ingest.sync({ chatId, userId: alice, afterSequence: 0 })).messages).toHaveLength(100);
    const big = await ingest.sync({ chatId, userId: alice, afterSequence: 0, limit: 10_000 });
    expect(big.messages).toHaveLength(120);
    expect(big.hasMore).toBe(false);
  });

  it("never lowers delivery_state and ignores acks above the tail (invariant 4, D8)", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    for (let i = 0; i < 5; i++) await ingest.persist(send(chatId, alice, `a${i}`));
    const stored = async () => (await fixture.messageStore.getDeliveryState(bob, chatId))?.lastAckedSequence;
    // D16 rule 9: acks are written behind; a reply reports only what is stored.
    expect(await ingest.ack({ chatId, userId: bob, sequence: 3 })).toEqual({ lastAckedSequence: 0 });
    await fixture.flushAcks();
    expect(await stored()).toBe(3);
    expect(await ingest.ack({ chatId, userId: bob, sequence: 2 })).toEqual({ lastAckedSequence: 3 });
    expect(await ingest.ack({ chatId, userId: bob, sequence: 99 })).toEqual({ lastAckedSequence: 3 });
    await fixture.flushAcks();
    expect(await stored()).toBe(3);
    // Coalesced: several acks between two flushes are one write of the highest.
    const writes = { count: 0 };
    const advance = fixture.messageStore.advanceDeliveryState.bind(fixture.messageStore);
    fixture.messageStore.advanceDeliveryState = async (...args) => {
      writes.count++;
      return advance(...args);
    };
    try {
      await ingest.ack({ chatId, userId: bob, sequence: 4 });
      expect(await ingest.ack({ chatId, userId: bob, sequence: 5 })).toEqual({ lastAckedSequence: 3 });
      await fixture.flushAcks();
      expect(writes.count).toBe(1);
    } finally {
      fixture.messageStore.advanceDeliveryState = advance;
    }
    expect(await stored()).toBe(5);
    expect(await ingest.ack({ chatId, userId: bob, sequence: 1 })).toEqual({ lastAckedSequence: 5 });
  });

  it("publishes every persisted message to messages.persisted in sequence order (invariant 5, D4)", async () => {
    const [alice, bob] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => ingest.persist(send(chatId, i % 2 ? alice : bob, `e${i}`))),
    );
    await waitFor(() => fixture.events.sequencesOf(chatId).length === 30, { what: "30 events" });
    const arrival = fixture.events.of(chatId).map((event) => event.sequence);
    expect(arrival).toEqual([...arrival].sort((a, b) => a - b));
    const first = fixture.events.of(chatId)[0];
    expect(first).toMatchObject({ chat_id: chatId, sequence: 1, content_type: "text/plain" });
  });

  it("refuses a non-member's send and sync, and a member removed by a returned removal (invariant 6)", async () => {
    const [alice, bob, mallory] = [fixture.ids.user(), fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice, bob]);
    await expect(ingest.persist(send(chatId, mallory, "let me in"))).rejects.toSatisfy(
      withCode("NOT_A_MEMBER"),
    );
    await expect(ingest.sync({ chatId, userId: mallory, afterSequence: 0 })).rejects.toSatisfy(
      withCode("NOT_A_MEMBER"),
    );
    await ingest.persist(send(chatId, bob, "before removal"));
    expect(await fixture.chatStore.removeMembership(chatId, bob)).toBe(true);
    await expect(ingest.persist(send(chatId, bob, "after removal"))).rejects.toSatisfy(
      withCode("NOT_A_MEMBER"),
    );
    await expect(ingest.sync({ chatId, userId: bob, afterSequence: 0 })).rejects.toSatisfy(
      withCode("NOT_A_MEMBER"),
    );
    const unknown = fixture.ids.chat();
    await expect(ingest.persist(send(unknown, alice, "anyone?"))).rejects.toSatisfy(withCode("NOT_FOUND"));
  });

  it("answers bad input with documented codes and keeps serving (invariant 7)", async () => {
    const [alice] = [fixture.ids.user()];
    const chatId = await fixture.chatWith([alice]);
    await expect(ingest.persist(send(chatId, alice, ""))).rejects.toSatisfy(withCode("INVALID_MESSAGE"));
    await expect(ingest.persist(send(chatId, alice, "é".repeat(2049)))).rejects.toSatisfy(
      withCode("MESSAGE_TOO_LARGE"),
    );
    await expect(
      ingest.persist({ ...send(chatId, alice, "x"), contentType: "text/html" as "text/plain" }),
    ).rejects.toSatisfy(withCode("INVALID_CONTENT_TYPE"));
    await expect(ingest.persist(send("chat_nope" as ChatId, alice, "x"))).rejects.toSatisfy(
      withCode("INVALID_MESSAGE"),
    );
    await expect(ingest.persist(send(chatId, alice, "x", "not a uuid!"))).rejects.toSatisfy(
      withCode("INVALID_MESSAGE"),
    );
    await expect(ingest.ack({ chatId, userId: alice, sequence: 0 })).rejects.toSatisfy(
      withCode("INVALID_MESSAGE"),
    );
    expect((await ingest.persist(send(chatId, alice, "é".repeat(2048)))).sequence).toBe(1);
  });

  it("passivates an idle sequencer after publishing, and the next send continues the sequence", async () => {
    const [alice] = [fixture.ids.user()];
    const chatId = await fixture.chatWith([alice]);
    for (let i = 0; i < 3; i++) await ingest.persist(send(chatId, alice, `i${i}`));
    // The reply can arrive before the actor has finished its turn: wait until it rests, then let time pass.
    await waitFor(() => ingest.host.stateOf(chatId) === "ready.idle", { what: "an idle sequencer" });
    fixture.clock.advance(5 * 60_000);
    await waitFor(() => ingest.host.stateOf(chatId) === undefined, { what: "passivation" });
    const counters = await fixture.messageStore.getCounters(chatId);
    expect(counters).toMatchObject({ highWater: 3, publishedThrough: 3 });
    expect((await ingest.persist(send(chatId, alice, "back"))).sequence).toBe(4);
  });
});
