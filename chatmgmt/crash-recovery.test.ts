import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatId, UserId } from "../runtime/ids.js";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  type LoggedIn,
  login,
} from "../test/support/chatmgmt-fixture.js";
import { waitFor } from "../test/support/wait-for.js";
import { requestHash } from "./chats/request-idempotency.js";

/**
 * D15: chat creation is a sequence of idempotent conditional writes. A crash between two steps is
 * simulated by writing the steps done so far straight to the stores; what is left must be invisible, and the
 * next request must complete it (one chat, events published once).
 */
describe.skipIf(!dynamoEndpoint)("chat management: half-written chats after a crash", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  let a: LoggedIn;
  let b: LoggedIn;
  beforeAll(async () => {
    fixture = await chatMgmtFixture();
    call = apiClient(fixture.baseUrl);
    [a, b] = await Promise.all([login(call), login(call)]);
  });
  afterAll(async () => fixture?.close());

  const eventsOf = (chatId: string, type: string) =>
    fixture.events.filter((e) => e.partition_key === chatId && e.event_type === type);

  it("a direct-chat sentinel claimed by a crashed request is completed by the next creation", async () => {
    const [x, y] = [await login(call), await login(call)];
    const crashed = fixture.ids.chat();
    // The crashed request got as far as the pair sentinel and the chat record (`creating`).
    await fixture.stores.chatStore.claimDirectChat(x.userId as UserId, y.userId as UserId, crashed);
    await fixture.stores.chatStore.createChat({
      chatId: crashed,
      chatType: "direct",
      name: null,
      createdBy: x.userId as UserId,
      status: "creating",
      memberCount: 2,
      createdAt: fixture.clock.now(),
      updatedAt: fixture.clock.now(),
    });
    expect((await call("GET", `/api/v1/chats/${crashed}`, { token: x.accessToken })).status).toBe(404);
    const response = await call("POST", "/api/v1/chats", {
      token: y.accessToken,
      body: { type: "direct", member_ids: [x.userId] },
    });
    expect(response.status).toBe(200);
    expect(response.body.data.chat_id).toBe(crashed);
    expect(response.body.data.members).toHaveLength(2);
    expect((await call("GET", `/api/v1/chats/${crashed}`, { token: x.accessToken })).status).toBe(200);
    await waitFor(() => eventsOf(crashed, "ChatCreated").length === 1, { what: "ChatCreated" });
  });

  it("a group left `creating` is invisible, and a retry with its Idempotency-Key completes it once", async () => {
    const key = randomUUID();
    const chatId = fixture.ids.chat();
    const body = { type: "group", name: "Crashed", member_ids: [b.userId] };
    const now = fixture.clock.now();
    // The first attempt claimed the key, wrote the chat and the owner's membership, then died.
    await fixture.stores.requestIdempotencyStore.claim({
      scopeKey: `${a.userId}#POST /chats#${key}`,
      requestHash: requestHash({ type: "group", name: "Crashed", member_ids: [b.userId] }),
      state: "pending",
      resourceIds: { chat_id: chatId },
      createdAt: now,
      expiresAt: now + 86_400_000,
    });
    await fixture.stores.chatStore.createChat({
      chatId,
      chatType: "group",
      name: "Crashed",
      createdBy: a.userId as UserId,
      status: "creating",
      memberCount: 2,
      createdAt: now,
      updatedAt: now,
    });
    await fixture.stores.chatStore.addMembership({
      chatId: chatId as ChatId,
      userId: a.userId as UserId,
      role: "owner",
      joinedAt: now,
      updatedAt: now,
    });
    expect((await call("GET", `/api/v1/chats/${chatId}`, { token: a.accessToken })).status).toBe(404);
    const listed = await call("GET", "/api/v1/chats", { token: a.accessToken });
    expect(listed.body.data.map((c: { chat_id: string }) => c.chat_id)).not.toContain(chatId);

    const retry = await call("POST", "/api/v1/chats", {
      token: a.accessToken,
      body,
      headers: { "idempotency-key": key },
    });
    expect(retry.status).toBe(201);
    expect(retry.body.data).toMatchObject({ chat_id: chatId, member_count: 2 });
    expect(retry.body.data.members).toHaveLength(2);
    const again = await call("POST", "/api/v1/chats", {
      token: a.accessToken,
      body,
      headers: { "idempotency-key": key },
    });
    expect(again.body.data.chat_id).toBe(chatId);
    // A chat's lifecycle records are published in the order they were raised: once a member added after
    // the retries has its event, every record the retries raised has arrived, a duplicate included.
    const marker = await login(call);
    const added = await call("POST", `/api/v1/chats/${chatId}/members`, {
      token: a.accessToken,
      body: { user_id: marker.userId },
    });
    expect(added.status).toBe(201);
    await waitFor(() => eventsOf(chatId, "MembershipChanged").length === 3, { what: "MembershipChanged" });
    expect(eventsOf(chatId, "ChatCreated")).toHaveLength(1);
  });
});

describe.skipIf(!dynamoEndpoint)("chat management: the event log refusing lifecycle events", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  const lines: Array<{ msg?: string; topic?: string }> = [];
  beforeAll(async () => {
    const { pino } = await import("pino");
    const logger = pino(
      { level: "error" },
      { write: (line: string) => lines.push(JSON.parse(line) as { msg?: string; topic?: string }) },
    );
    fixture = await chatMgmtFixture({ topics: false, logger });
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());

  it("chat creation still succeeds; publication is retried 3 times, then logged, never rolled back", async () => {
    const [a, b] = [await login(call), await login(call)];
    const created = await call("POST", "/api/v1/chats", {
      token: a.accessToken,
      body: { type: "group", name: "No log", member_ids: [b.userId] },
    });
    expect(created.status).toBe(201);
    // The retry pauses (100, 500, 2000 ms) run on the injected clock: each probe moves it past the longest.
    await waitFor(
      () => {
        fixture.clock.advance(2000);
        return lines.some((l) => l.msg === "lifecycle_event_publish_failed");
      },
      { what: "the publication to be given up" },
    );
    expect(lines.some((l) => l.msg === "lifecycle_event_publish_failed" && l.topic === "chats.created")).toBe(
      true,
    );
    const detail = await call("GET", `/api/v1/chats/${created.body.data.chat_id}`, { token: b.accessToken });
    expect(detail.status).toBe(200);
  });
});
