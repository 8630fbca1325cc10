import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import type { User } from "./support/rest.js";
import { sleep } from "./support/wait.js";
import { World } from "./support/world.js";
import type { Frame } from "./support/ws-client.js";

/**
 * spec/protocol.md §11 (client limits enforced by the server), §6 RATE_LIMITED and §3/§7 the `rate_limited`
 * close, with the send limits shrunk through their documented variables (WS_SEND_PER_CHAT_BURST, ...) so that
 * a burst is a handful of frames.
 */
const engines = engineEnv();
const PER_CHAT_BURST = 3;
const PER_CONNECTION = 5;

describe.skipIf(!engines)("conformance: rate limits (protocol §11)", { timeout: TEST_TIMEOUT_MS }, () => {
  let world: World;
  let alice: User;
  let bob: User;
  let chat: string;
  let other: string;

  beforeAll(async () => {
    world = await World.start({
      env: {
        WS_SEND_PER_CHAT_PER_S: "1",
        WS_SEND_PER_CHAT_BURST: String(PER_CHAT_BURST),
        WS_SEND_PER_CONNECTION_PER_S: String(PER_CONNECTION),
      },
    });
    [alice, bob] = (await world.users(2)) as [User, User];
    [chat, other] = await Promise.all([world.chat(alice, bob), world.chat(alice, bob)]);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await world?.stop();
  }, HOOK_TIMEOUT_MS);

  const burst = async (client: Awaited<ReturnType<World["connect"]>>, chatId: string, count: number) => {
    const frames = Array.from({ length: count }, () => ({
      type: "send_message",
      request_id: randomUUID(),
      payload: { chat_id: chatId, client_message_id: randomUUID(), content: "burst" },
    }));
    for (const frame of frames) client.send(frame);
    return { frames, replies: await Promise.all(frames.map((frame) => client.reply(frame.request_id))) };
  };

  it("§11 send_message per chat: over the burst -> RATE_LIMITED echoing the request_id, with retry_after_seconds; nothing is stored for it", async () => {
    const client = await world.connect(alice);
    const { frames, replies } = await burst(client, chat, PER_CHAT_BURST + 1);
    expect(replies.slice(0, PER_CHAT_BURST).map((r) => r.type)).toEqual(
      Array(PER_CHAT_BURST).fill("send_message_ack"),
    );
    const refused = replies[PER_CHAT_BURST] as Frame;
    expect(refused).toMatchObject({
      type: "error",
      request_id: frames[PER_CHAT_BURST]?.request_id,
      payload: { code: "RATE_LIMITED", message: expect.any(String) },
    });
    const retryAfter = refused.payload.details?.retry_after_seconds as number;
    expect(retryAfter).toBeGreaterThan(0);
    // The refused message was not stored: a retry after the advertised wait gets the next sequence.
    await sleep(retryAfter * 1000);
    const retried = await client.sendMessage(
      chat,
      "burst",
      frames[PER_CHAT_BURST]?.payload.client_message_id,
    );
    expect(retried.type).toBe("send_message_ack");
    expect(retried.payload.sequence).toBe(
      Math.max(...replies.slice(0, PER_CHAT_BURST).map((r) => r.payload.sequence as number)) + 1,
    );
    client.close();
  });

  it("§11 send_message per connection (all chats together): over the limit -> RATE_LIMITED", async () => {
    const client = await world.connect(bob);
    // One burst, so that the bucket cannot refill in between: 3 to one chat (its burst), then 3 to another.
    const frames = [chat, chat, chat, other, other, other].map((chatId) => ({
      type: "send_message",
      request_id: randomUUID(),
      payload: { chat_id: chatId, client_message_id: randomUUID(), content: "per connection" },
    }));
    for (const frame of frames) client.send(frame);
    const replies = await Promise.all(frames.map((frame) => client.reply(frame.request_id)));
    expect(replies.map((r) => (r.type === "error" ? r.payload.code : r.type))).toEqual([
      ...Array(PER_CONNECTION).fill("send_message_ack"),
      "RATE_LIMITED",
    ]);
    client.close();
  });

  it("§11 sync_request 5/s per connection: a sixth in a burst -> RATE_LIMITED", async () => {
    const client = await world.connect(alice);
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const id of ids) {
      client.send({
        type: "sync_request",
        request_id: id,
        payload: { chat_id: chat, last_acked_sequence: 0 },
      });
    }
    const replies = await Promise.all(ids.map((id) => client.reply(id)));
    expect(replies.slice(0, 5).every((r) => r.type === "sync_response")).toBe(true);
    expect(replies[5]).toMatchObject({ type: "error", payload: { code: "RATE_LIMITED" } });
    client.close();
  });

  it("§11/§7 persistent abuse -> connection_closing{rate_limited} and close 1013 (§3: rate-limited/overloaded)", async () => {
    const client = await world.connect(bob);
    // Bounded flood: far past any sane abuse threshold, all refused but the first few.
    for (let i = 0; i < 150 && client.ofType("connection_closing").length === 0; i++) {
      client.send({
        type: "sync_request",
        request_id: `flood-${i}`,
        payload: { chat_id: chat, last_acked_sequence: 0 },
      });
    }
    const closing = await client.next((f) => f.type === "connection_closing");
    expect(closing.request_id).toBeUndefined();
    expect(closing.payload).toMatchObject({
      reason: "rate_limited",
      message: expect.any(String),
      reconnect_delay_ms: expect.any(Number),
    });
    expect(client.ofType("error").every((f) => f.payload.code === "RATE_LIMITED")).toBe(true);
    expect((await client.closed).code).toBe(1013);
  });
});
