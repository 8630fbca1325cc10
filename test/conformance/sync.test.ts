import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import type { User } from "./support/rest.js";
import { World } from "./support/world.js";
import { ISO_MS, type WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §10 (sync) and client-contract RS-01, RS-02, AK-05, MR-03, server side: what a sync
 * returns, in which order, how pages end and chain, the default and maximum page sizes, and membership.
 */
const engines = engineEnv();

interface SyncMessage {
  message_id: string;
  sequence: number;
  sender_id: string;
  content: string;
  content_type: string;
  created_at: string;
}

describe.skipIf(!engines)("conformance: sync (protocol §10)", { timeout: TEST_TIMEOUT_MS }, () => {
  let world: World;
  let alice: User;
  let bob: User;
  let carol: User;
  let client: WsClient;
  /** A chat with 5 messages from alice. */
  let small: string;

  beforeAll(async () => {
    // Filling a 501-message chat quickly needs the send limits out of the way (they have their own tests).
    world = await World.start({
      env: {
        WS_SEND_PER_CHAT_PER_S: "100000",
        WS_SEND_PER_CHAT_BURST: "100000",
        WS_SEND_PER_CONNECTION_PER_S: "100000",
      },
    });
    [alice, bob, carol] = (await world.users(3)) as [User, User, User];
    small = await world.chat(alice, bob);
    client = await world.connect(alice);
    for (let i = 1; i <= 5; i++) await client.sendMessage(small, `small ${i}`);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    client?.close();
    await world?.stop();
  }, HOOK_TIMEOUT_MS);

  /** Sync requests are limited to 5/s per connection (§11): each test uses its own socket where it needs many. */
  const sync = (socket: WsClient, chatId: string, lastAcked: number, limit?: number) =>
    socket.request("sync_request", {
      chat_id: chatId,
      last_acked_sequence: lastAcked,
      ...(limit === undefined ? {} : { limit }),
    });

  it("§5/§10 sync_response: chat_id, ascending messages of {message_id, sequence, sender_id, content, content_type, created_at}, has_more", async () => {
    const page = await sync(client, small, 0);
    expect(page.type).toBe("sync_response");
    expect(page.payload.chat_id).toBe(small);
    expect(page.payload.has_more).toBe(false);
    expect("next_sequence" in page.payload).toBe(false);
    const messages = page.payload.messages as SyncMessage[];
    expect(messages.map((m) => m.sequence)).toEqual([1, 2, 3, 4, 5]);
    for (const message of messages) {
      expect(Object.keys(message).sort()).toEqual(
        ["content", "content_type", "created_at", "message_id", "sender_id", "sequence"].sort(),
      );
      expect(message).toMatchObject({
        message_id: expect.stringMatching(/^msg_/),
        sender_id: alice.userId,
        content: `small ${message.sequence}`,
        content_type: "text/plain",
        created_at: expect.stringMatching(ISO_MS),
      });
    }
  });

  it("§10: only messages with sequence > last_acked_sequence; 0 = all; a cursor at the top gives an empty page", async () => {
    const socket = await world.connect(alice);
    expect(((await sync(socket, small, 3)).payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual(
      [4, 5],
    );
    expect((await sync(socket, small, 0)).payload.messages).toHaveLength(5);
    expect((await sync(socket, small, 5)).payload).toEqual({ chat_id: small, messages: [], has_more: false });
    expect((await sync(socket, small, 99)).payload).toMatchObject({ messages: [], has_more: false });
    socket.close();
  });

  it("§10 paging: has_more iff more remain; next_sequence = last returned + 1; the next cursor is next_sequence − 1", async () => {
    const socket = await world.connect(alice);
    const first = await sync(socket, small, 0, 2);
    expect(first.payload).toMatchObject({ has_more: true, next_sequence: 3 });
    expect((first.payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual([1, 2]);
    const second = await sync(socket, small, (first.payload.next_sequence as number) - 1, 2);
    expect(second.payload).toMatchObject({ has_more: true, next_sequence: 5 });
    expect((second.payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual([3, 4]);
    const last = await sync(socket, small, (second.payload.next_sequence as number) - 1, 2);
    expect(last.payload.has_more).toBe(false);
    expect("next_sequence" in last.payload).toBe(false);
    expect((last.payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual([5]);
    // Exactly at the end: a full page with nothing after it says has_more false.
    const exact = await sync(socket, small, 3, 2);
    expect(exact.payload).toMatchObject({ has_more: false });
    expect((exact.payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual([4, 5]);
    socket.close();
  });

  it("§10: a limit that is not a non-negative integer -> INVALID_MESSAGE", async () => {
    const socket = await world.connect(alice);
    for (const limit of [-1, 2.5, "10"]) {
      const reply = await socket.request("sync_request", { chat_id: small, last_acked_sequence: 0, limit });
      expect(reply).toMatchObject({ type: "error", payload: { code: "INVALID_MESSAGE" } });
    }
    socket.close();
  });

  it("§10 NOT_A_MEMBER: a sync of a chat the user is not in (invariant 6)", async () => {
    const stranger = await world.connect(carol);
    const reply = await sync(stranger, small, 0);
    expect(reply).toMatchObject({ type: "error", payload: { code: "NOT_A_MEMBER" } });
    stranger.close();
  });

  it("§10 RS-01/RS-02 sync_completeness: a member offline while messages were sent gets exactly those from its cursor", async () => {
    const chat = await world.chat(alice, bob);
    const online = await world.connect(bob);
    await client.sendMessage(chat, "seen live");
    // Bob's local cursor becomes 1 (AK-05), then he goes offline.
    const seen = await sync(online, chat, 0);
    expect((seen.payload.messages as SyncMessage[]).map((m) => m.sequence)).toEqual([1]);
    online.close();
    await online.closed;
    const missed = [];
    for (let i = 1; i <= 3; i++)
      missed.push((await client.sendMessage(chat, `missed ${i}`)).payload.sequence);
    const back = await world.connect(bob);
    const page = await sync(back, chat, 1);
    expect(page.payload.has_more).toBe(false);
    expect((page.payload.messages as SyncMessage[]).map((m) => [m.sequence, m.content])).toEqual([
      [2, "missed 1"],
      [3, "missed 2"],
      [4, "missed 3"],
    ]);
    expect(missed).toEqual([2, 3, 4]);
    back.close();
  });

  it("§10: default page 100 and maximum 500 (a larger limit is clamped, [Unspec]); pages chain through all 501 messages exactly once", async () => {
    const chat = await world.chat(alice, bob);
    const sender = await world.connect(alice);
    // Pipelined in windows: the gateway bounds requests in flight per connection.
    for (let start = 0; start < 501; start += 25) {
      const window = Array.from({ length: Math.min(25, 501 - start) }, (_, i) =>
        sender.sendMessage(chat, `bulk ${start + i}`, randomUUID()),
      );
      for (const ack of await Promise.all(window)) expect(ack.type).toBe("send_message_ack");
    }
    const socket = await world.connect(bob);
    const byDefault = await sync(socket, chat, 0);
    expect(byDefault.payload.messages).toHaveLength(100);
    expect(byDefault.payload).toMatchObject({ has_more: true, next_sequence: 101 });
    const clamped = await sync(socket, chat, 0, 1000);
    expect(clamped.payload.messages).toHaveLength(500);
    expect(clamped.payload).toMatchObject({ has_more: true, next_sequence: 501 });
    const rest = await sync(socket, chat, 500, 500);
    expect(rest.payload).toMatchObject({ has_more: false });
    const all = [
      ...(clamped.payload.messages as SyncMessage[]),
      ...(rest.payload.messages as SyncMessage[]),
    ].map((m) => m.sequence);
    expect(all).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
    sender.close();
    socket.close();
  });
});
