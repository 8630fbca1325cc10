import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IngestService } from "../actors/chat-sequencer/ingest-service.js";
import type { GetMessagesResponse__Output } from "../proto/generated/messaging/v1/GetMessagesResponse.js";
import { messagingProto } from "../proto/load.js";
import { InProcessEventLog } from "../runtime/adapters/memory/event-log.js";
import type { ChatId, UserId } from "../runtime/ids.js";
import { createLogger } from "../runtime/logger.js";
import { toWireSyncMessage } from "../runtime/message-wire.js";
import { TOPICS } from "../runtime/topics.js";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  type LoggedIn,
  login,
} from "../test/support/chatmgmt-fixture.js";

/**
 * History and delivery state over REST, on messages written by the real durability plane (IngestService and
 * its ChatSequencer actors) into the same dynalite tables.
 */
describe.skipIf(!dynamoEndpoint)("chat management: history and delivery state", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  let ingest: IngestService;
  let ingestLog: InProcessEventLog;
  let owner: LoggedIn;
  let alice: LoggedIn;
  let stranger: LoggedIn;
  let chatId: string;
  const TOTAL = 120;

  const send = (sender: LoggedIn, content: string, chat = chatId) =>
    ingest.persist({
      chatId: chat as ChatId,
      senderId: sender.userId as UserId,
      clientMessageId: randomUUID(),
      content,
      contentType: "text/plain",
    });
  const history = (query: string, token = owner.accessToken, chat = chatId) =>
    call("GET", `/api/v1/chats/${chat}/messages${query}`, { token });
  const sequences = (body: { data: Array<{ sequence: number }> }) => body.data.map((m) => m.sequence);
  const range = (from: number, to: number): number[] =>
    from <= to ? Array.from({ length: to - from + 1 }, (_, i) => from + i) : range(to, from).reverse();

  beforeAll(async () => {
    fixture = await chatMgmtFixture();
    call = apiClient(fixture.baseUrl);
    ingestLog = new InProcessEventLog({ clock: fixture.clock });
    await ingestLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 2 }]);
    ingest = new IngestService({
      messageStore: fixture.stores.messageStore,
      chatStore: fixture.stores.chatStore,
      eventLog: ingestLog,
      clock: fixture.clock,
      ids: fixture.ids,
      logger: createLogger({ level: "silent" }),
      producerId: "history-test",
    });
    [owner, alice, stranger] = await Promise.all([login(call), login(call), login(call)]);
    await call("PATCH", "/api/v1/users/me", { token: alice.accessToken, body: { display_name: "Alice" } });
    const created = await call("POST", "/api/v1/chats", {
      token: owner.accessToken,
      body: { type: "group", name: "History", member_ids: [alice.userId] },
    });
    chatId = created.body.data.chat_id;
    for (let i = 1; i <= TOTAL; i++) await send(i % 2 === 0 ? alice : owner, `message ${i}`);
  });
  afterAll(async () => {
    await ingest?.shutdown();
    await ingestLog?.close();
    await fixture?.close();
  });

  it("pages backward by default, newest first, 50 per page, until has_more is false", async () => {
    const seen: number[] = [];
    let query = "";
    for (let page = 0; page < 10; page++) {
      const response = await history(query);
      expect(response.status).toBe(200);
      seen.push(...sequences(response.body));
      if (!response.body.pagination.has_more) {
        expect(response.body.pagination.next_cursor).toBeNull();
        break;
      }
      query = `?cursor=${response.body.pagination.next_cursor}`;
    }
    expect(seen).toEqual(range(TOTAL, 1));
  });

  it("pages forward and within an exclusive range; the range survives the cursor", async () => {
    const forward = await history("?direction=forward&limit=100");
    expect(sequences(forward.body)).toEqual(range(1, 100));
    const ranged = await history("?direction=forward&after_sequence=10&before_sequence=20&limit=5");
    expect(sequences(ranged.body)).toEqual([11, 12, 13, 14, 15]);
    const next = await history(`?cursor=${ranged.body.pagination.next_cursor}&limit=5`);
    expect(sequences(next.body)).toEqual([16, 17, 18, 19]);
    expect(next.body.pagination.has_more).toBe(false);
    const backwardRange = await history("?before_sequence=20&after_sequence=15");
    expect(sequences(backwardRange.body)).toEqual([19, 18, 17, 16]);
  });

  it("refuses bad paging input with VALIDATION_ERROR", async () => {
    const first = await history("?limit=2");
    for (const query of [
      `?cursor=${first.body.pagination.next_cursor}&before_sequence=3`,
      "?cursor=bogus",
      "?limit=101",
      "?limit=0",
      "?direction=sideways",
      "?after_sequence=-1",
    ]) {
      const response = await history(query);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code, query).toBe("VALIDATION_ERROR");
    }
    const other = await call("POST", "/api/v1/chats", {
      token: owner.accessToken,
      body: { type: "group", name: "Other", member_ids: [alice.userId] },
    });
    const foreignCursor = await history(
      `?cursor=${first.body.pagination.next_cursor}`,
      owner.accessToken,
      other.body.data.chat_id,
    );
    expect(foreignCursor.status).toBe(400);
  });

  it("non-members get 403 NOT_A_MEMBER, unknown chats 404", async () => {
    const response = await history("", stranger.accessToken);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("NOT_A_MEMBER");
    expect((await history("", owner.accessToken, fixture.ids.chat())).status).toBe(404);
    expect(
      (await call("GET", `/api/v1/chats/${chatId}/messages/1`, { token: stranger.accessToken })).status,
    ).toBe(403);
  });

  it("history items have exactly the WebSocket message fields, in order, plus sender; the same as sync", async () => {
    const rest = await history("?direction=forward&limit=100");
    const sync = await ingest.sync({
      chatId: chatId as ChatId,
      userId: owner.userId as UserId,
      afterSequence: 0,
      limit: 100,
    });
    const wire = sync.messages.map(toWireSyncMessage);
    expect(rest.body.data).toHaveLength(wire.length);
    rest.body.data.forEach((item: Record<string, unknown>, index: number) => {
      expect(Object.keys(item)).toEqual([
        "message_id",
        "chat_id",
        "sequence",
        "sender_id",
        "content",
        "content_type",
        "created_at",
        "sender",
      ]);
      const { chat_id, sender, ...syncShape } = item;
      expect(chat_id).toBe(chatId);
      expect(Object.keys(syncShape)).toEqual(Object.keys(wire[index] ?? {}));
      expect(syncShape).toEqual(wire[index]);
    });
    const fromAlice = rest.body.data.find((m: { sender_id: string }) => m.sender_id === alice.userId);
    expect(fromAlice.sender).toEqual({ user_id: alice.userId, display_name: "Alice" });
  });

  it("one message by id or by sequence; unknown ones are 404", async () => {
    const [latest] = (await history("?limit=1")).body.data;
    const byId = await call("GET", `/api/v1/chats/${chatId}/messages/${latest.message_id}`, {
      token: alice.accessToken,
    });
    expect(byId.status).toBe(200);
    expect(byId.body.data).toEqual(latest);
    const bySequence = await call("GET", `/api/v1/chats/${chatId}/messages/${latest.sequence}`, {
      token: alice.accessToken,
    });
    expect(bySequence.body.data).toEqual(latest);
    expect(
      (
        await call("GET", `/api/v1/chats/${chatId}/messages/${fixture.ids.message()}`, {
          token: alice.accessToken,
        })
      ).status,
    ).toBe(404);
    expect(
      (await call("GET", `/api/v1/chats/${chatId}/messages/99999`, { token: alice.accessToken })).status,
    ).toBe(404);
    expect(
      (await call("GET", `/api/v1/chats/${chatId}/messages/bogus`, { token: alice.accessToken })).status,
    ).toBe(400);
  });

  it("around a sequence: context before and after, ascending, with has_more flags", async () => {
    const middle = await call("GET", `/api/v1/chats/${chatId}/messages/around/60?context=5`, {
      token: alice.accessToken,
    });
    expect(middle.status).toBe(200);
    expect(middle.body.data).toMatchObject({
      target_sequence: 60,
      has_more_before: true,
      has_more_after: true,
    });
    expect(sequences({ data: middle.body.data.messages })).toEqual(range(55, 65));
    const start = await call("GET", `/api/v1/chats/${chatId}/messages/around/2?context=3`, {
      token: alice.accessToken,
    });
    expect(sequences({ data: start.body.data.messages })).toEqual([1, 2, 3, 4, 5]);
    expect(start.body.data.has_more_before).toBe(false);
    const missing = await call("GET", `/api/v1/chats/${chatId}/messages/around/${TOTAL + 50}`, {
      token: alice.accessToken,
    });
    expect(missing.status).toBe(404);
    const tooWide = await call("GET", `/api/v1/chats/${chatId}/messages/around/60?context=51`, {
      token: alice.accessToken,
    });
    expect(tooWide.status).toBe(400);
  });

  it("pages have no duplicates or holes while messages are being sent", async () => {
    const busy = (
      await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body: { type: "group", name: "Busy", member_ids: [alice.userId] },
      })
    ).body.data.chat_id as string;
    for (let i = 1; i <= 30; i++) await send(owner, `before ${i}`, busy);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 200; i++) await send(alice, `during ${i}`, busy);
    })();
    // Backward from the newest at the time of the first page: exactly that page's top down to 1.
    const backward: number[] = [];
    let query = "?limit=7";
    for (let page = 0; page < 100; page++) {
      const response = await history(query, owner.accessToken, busy);
      backward.push(...sequences(response.body));
      if (!response.body.pagination.has_more) break;
      query = `?limit=7&cursor=${response.body.pagination.next_cursor}`;
    }
    expect(backward).toEqual(range(backward[0] ?? 1, 1));
    // Forward from the start: consecutive from 1, whatever arrives meanwhile.
    const forward: number[] = [];
    query = "?direction=forward&limit=9";
    for (let page = 0; page < 100; page++) {
      const response = await history(query, owner.accessToken, busy);
      forward.push(...sequences(response.body));
      if (!response.body.pagination.has_more) break;
      query = `?limit=9&cursor=${response.body.pagination.next_cursor}`;
    }
    writing = false;
    await writer;
    expect(forward).toEqual(range(1, forward.length));
    expect(forward.length).toBeGreaterThanOrEqual(30);
  });

  it("gRPC GetMessages serves the same history ascending, newest page first, paged by token", async () => {
    const { port } = await fixture.management.startGrpc("127.0.0.1", 0);
    const { ChatService } = messagingProto().messaging.v1;
    const client = new ChatService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${alice.accessToken}`);
    const get = (request: object) =>
      new Promise<GetMessagesResponse__Output>((resolve, reject) =>
        client.GetMessages(request, metadata, (error, response) =>
          error || response === undefined ? reject(error) : resolve(response),
        ),
      );
    try {
      const newest = await get({ chat_id: chatId, page: { page_size: 10 } });
      expect(newest.messages.map((m) => m.sequence)).toEqual(range(TOTAL - 9, TOTAL));
      const older = await get({
        chat_id: chatId,
        page: { page_size: 10, page_token: newest.page?.next_page_token },
      });
      expect(older.messages.map((m) => m.sequence)).toEqual(range(TOTAL - 19, TOTAL - 10));
      const after = await get({ chat_id: chatId, after_sequence: 115, page: { page_size: 10 } });
      expect(after.messages.map((m) => m.sequence)).toEqual(range(116, TOTAL));
      expect(after.page?.next_page_token).toBe("");
      expect(after.messages[0]).toMatchObject({
        chat_id: chatId,
        content: "message 116",
        content_type: "text/plain",
      });
    } finally {
      client.close();
    }
  });

  describe("delivery state", () => {
    it("reports current and acked sequences; PATCH only raises; above the tail is 422", async () => {
      const initial = await call("GET", `/api/v1/delivery-state?chat_ids=${chatId}`, {
        token: alice.accessToken,
      });
      expect(initial.body.data).toEqual([
        {
          chat_id: chatId,
          last_acked_sequence: 0,
          current_sequence: TOTAL,
          unread_count: TOTAL,
          updated_at: null,
        },
      ]);
      const raised = await call("PATCH", `/api/v1/delivery-state/${chatId}`, {
        token: alice.accessToken,
        body: { last_acked_sequence: 50 },
      });
      expect(raised.status).toBe(200);
      expect(raised.body.data).toMatchObject({ chat_id: chatId, last_acked_sequence: 50 });
      // The sender's "delivered" tick: every member's acknowledged sequence, seen by the other members.
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: owner.accessToken });
      expect(detail.body.data.members).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ user_id: alice.userId, last_acked_sequence: 50 }),
          expect.objectContaining({ user_id: owner.userId, last_acked_sequence: 0 }),
        ]),
      );
      const lower = await call("PATCH", `/api/v1/delivery-state/${chatId}`, {
        token: alice.accessToken,
        body: { last_acked_sequence: 40 },
      });
      expect(lower.body.data.last_acked_sequence).toBe(50);
      const above = await call("PATCH", `/api/v1/delivery-state/${chatId}`, {
        token: alice.accessToken,
        body: { last_acked_sequence: TOTAL + 1 },
      });
      expect(above.status).toBe(422);
      expect(above.body.error.code).toBe("UNPROCESSABLE_ENTITY");
      const notMember = await call("PATCH", `/api/v1/delivery-state/${chatId}`, {
        token: stranger.accessToken,
        body: { last_acked_sequence: 1 },
      });
      expect(notMember.status).toBe(403);
      const all = await call("GET", "/api/v1/delivery-state", { token: alice.accessToken });
      expect(all.body.data).toContainEqual(
        expect.objectContaining({ chat_id: chatId, last_acked_sequence: 50, unread_count: TOTAL - 50 }),
      );
      const hidden = await call("GET", `/api/v1/delivery-state?chat_ids=${chatId}`, {
        token: stranger.accessToken,
      });
      expect(hidden.body.data).toEqual([]);
      const tooMany = await call(
        "GET",
        `/api/v1/delivery-state?chat_ids=${Array.from({ length: 51 }, () => chatId).join(",")}`,
        {
          token: alice.accessToken,
        },
      );
      expect(tooMany.status).toBe(400);
    });

    it("the chat list and chat detail show the last message, current sequence and pending acks", async () => {
      const list = await call("GET", "/api/v1/chats", { token: alice.accessToken });
      const item = list.body.data.find((c: { chat_id: string }) => c.chat_id === chatId);
      expect(item).toMatchObject({
        type: "group",
        name: "History",
        my_membership: { role: "member" },
        last_message: { sequence: TOTAL, content_preview: `message ${TOTAL}`, sender_id: alice.userId },
        pending_ack_count: TOTAL - 50,
      });
      expect(item.created_by).toBeUndefined();
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: alice.accessToken });
      expect(detail.body.data).toMatchObject({
        current_sequence: TOTAL,
        my_membership: { last_acked_sequence: 50 },
      });
    });
  });
});
