import { expect } from "vitest";
import type { MessagePersistedPayload } from "../../runtime/events.js";
import { persistedEvents } from "../support/reads.js";
import { waitFor } from "../support/wait-for.js";
import { devLogin, restAs, WsPeer } from "../support/ws-peer.js";

/**
 * The end-to-end scenarios of spec/planes-ops-security-testing.md §6 (L3) and the failure scenarios,
 * black-box: only WebSocket, REST and reads of `messages.persisted`. Each takes the entry URL of a running
 * platform (the cluster in cluster.test.ts) and creates users and chats of its own.
 */
export interface Stack {
  readonly entryUrl: string;
  readonly kafkaBrokers: string;
}

let phoneCounter = Math.floor(Math.random() * 1e6);
export const phone = () => `+1646${String(phoneCounter++ % 1e7).padStart(7, "0")}`;

export async function user(stack: Stack, device: string) {
  const login = await devLogin(stack.entryUrl, phone(), device);
  return { ...login, device };
}

export async function chatOf(stack: Stack, owner: { accessToken: string }, others: readonly string[]) {
  const body =
    others.length === 1
      ? { type: "direct", member_ids: others }
      : { type: "group", name: "e2e", member_ids: others };
  return (await restAs<{ chat_id: string }>(stack.entryUrl, owner.accessToken, "POST", "/api/v1/chats", body))
    .chat_id;
}

/** MessagePersisted events of some chats, until `count` are seen (then a second more, to catch an extra one). */
async function eventsOf(
  stack: Stack,
  chatIds: readonly string[],
  count: number,
): Promise<MessagePersistedPayload[]> {
  let enoughAt: number | undefined;
  return persistedEvents(
    stack.kafkaBrokers,
    new Set(chatIds),
    (seen) => {
      if (seen.length < count) return false;
      enoughAt ??= Date.now();
      return Date.now() - enoughAt >= 1_000;
    },
    90_000,
  );
}

/** 1. Direct chat: both sides see [1, 2], visible over REST, both events on Kafka. */
export async function directChat(stack: Stack): Promise<void> {
  const [alice, bob] = [await user(stack, "a1"), await user(stack, "b1")];
  const chatId = await chatOf(stack, alice, [bob.userId]);
  const a = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  const b = await WsPeer.connect(stack.entryUrl, bob.accessToken, bob.device);
  // Alice's second device: it gets the push, and only after the sending device got the ack.
  const a2 = await WsPeer.connect(stack.entryUrl, alice.accessToken, "a1-tablet");
  try {
    const first = await a.sendMessage(chatId, "one");
    const second = await b.sendMessage(chatId, "two");
    expect([first.sequence, second.sequence]).toEqual([1, 2]);
    await waitFor(
      () => a.pushed(chatId).length >= 1 && b.pushed(chatId).length >= 1 && a2.pushed(chatId).length >= 2,
      {
        timeoutMs: 45_000,
        what: "pushes",
      },
    );
    // Each sender's own connection got an ack instead of its own push; the other side got the push.
    expect(a.pushed(chatId).map((m) => m.sequence)).toEqual([2]);
    expect(b.pushed(chatId).map((m) => m.sequence)).toEqual([1]);
    expect(a2.pushed(chatId).map((m) => m.content)).toEqual(["one", "two"]);
    const history = await restAs<Array<{ sequence: number; content: string }>>(
      stack.entryUrl,
      bob.accessToken,
      "GET",
      `/api/v1/chats/${chatId}/messages?direction=forward`,
    );
    expect(history.map((m) => [m.sequence, m.content])).toEqual([
      [1, "one"],
      [2, "two"],
    ]);
    const events = await eventsOf(stack, [chatId], 2);
    expect(events.map((e) => e.sequence).sort()).toEqual([1, 2]);
  } finally {
    for (const peer of [a, b, a2]) peer.close();
  }
}

/** 2. Sync: acked up to 5, offline while 6–8 are sent, then sync gives [6, 7, 8] with has_more false; ack 8. */
export async function syncAfterOffline(stack: Stack): Promise<void> {
  const [alice, bob] = [await user(stack, "a2"), await user(stack, "b2")];
  const chatId = await chatOf(stack, alice, [bob.userId]);
  const a = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  let b = await WsPeer.connect(stack.entryUrl, bob.accessToken, bob.device);
  try {
    for (let i = 1; i <= 5; i++) await a.sendMessage(chatId, `m${i}`);
    await waitFor(() => b.pushed(chatId).length === 5, { timeoutMs: 45_000, what: "5 pushes" });
    b.send("ack", { chat_id: chatId, last_acked_sequence: 5 });
    await waitFor(async () => (await delivered(stack, bob.accessToken, chatId)) === 5, { what: "ack 5" });
    b.close();
    for (let i = 6; i <= 8; i++) await a.sendMessage(chatId, `m${i}`);
    b = await WsPeer.connect(stack.entryUrl, bob.accessToken, bob.device);
    const requestId = b.send("sync_request", { chat_id: chatId, last_acked_sequence: 5 });
    const answer = await b.next((frame) => frame.request_id === requestId);
    expect(answer.type).toBe("sync_response");
    const payload = answer.payload as { messages: Array<{ sequence: number }>; has_more: boolean };
    expect(payload.messages.map((m) => m.sequence)).toEqual([6, 7, 8]);
    expect(payload.has_more).toBe(false);
    b.send("ack", { chat_id: chatId, last_acked_sequence: 8 });
    await waitFor(async () => (await delivered(stack, bob.accessToken, chatId)) === 8, { what: "ack 8" });
  } finally {
    a.close();
    b.close();
  }
}

async function delivered(stack: Stack, token: string, chatId: string): Promise<number> {
  const states = await restAs<Array<{ chat_id: string; last_acked_sequence: number }>>(
    stack.entryUrl,
    token,
    "GET",
    `/api/v1/delivery-state?chat_ids=${chatId}`,
  );
  return states[0]?.last_acked_sequence ?? 0;
}

/**
 * 3. Retry / duplicate submission / disconnect before ack: the same client_message_id sent again — on the
 * same connection, and on a new connection after the first one closed before its ack could arrive — gets the
 * same sequence: one row, one event.
 */
export async function retriedSend(stack: Stack): Promise<void> {
  const [alice, bob] = [await user(stack, "a3"), await user(stack, "b3")];
  const chatId = await chatOf(stack, alice, [bob.userId]);
  const clientMessageId = crypto.randomUUID();
  const first = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  // Disconnect before the ack: the frame goes out and the socket closes at once.
  first.send("send_message", {
    chat_id: chatId,
    client_message_id: clientMessageId,
    content: "once",
    content_type: "text/plain",
  });
  first.socket.terminate();
  const again = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  try {
    const acks = [
      await again.sendMessage(chatId, "once", clientMessageId),
      await again.sendMessage(chatId, "once", clientMessageId),
    ];
    expect(new Set(acks.map((ack) => ack.sequence))).toEqual(new Set([1]));
    expect(new Set(acks.map((ack) => ack.message_id)).size).toBe(1);
    const history = await restAs<unknown[]>(
      stack.entryUrl,
      bob.accessToken,
      "GET",
      `/api/v1/chats/${chatId}/messages`,
    );
    expect(history).toHaveLength(1);
    const events = await eventsOf(stack, [chatId], 1);
    expect(events.map((e) => e.sequence)).toEqual([1]);
  } finally {
    again.close();
  }
}

/** 4. Concurrency: 3 clients send 10 messages each at once; all see the identical order 1..30, no duplicates. */
export async function concurrentSenders(stack: Stack): Promise<void> {
  const people = [await user(stack, "c1"), await user(stack, "c2"), await user(stack, "c3")];
  const [owner, ...others] = people;
  if (owner === undefined) throw new Error("no owner");
  const chatId = await chatOf(
    stack,
    owner,
    others.map((p) => p.userId),
  );
  const peers = await Promise.all(people.map((p) => WsPeer.connect(stack.entryUrl, p.accessToken, p.device)));
  try {
    await Promise.all(
      peers.map(async (peer, index) => {
        for (let i = 0; i < 10; i++) await peer.sendMessage(chatId, `c${index + 1}-${i}`);
      }),
    );
    const views = await Promise.all(peers.map((peer) => peer.syncAll(chatId)));
    for (const view of views) {
      expect(view.map((m) => m.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(view.map((m) => m.message_id)).toEqual(views[0]?.map((m) => m.message_id));
    }
    expect(new Set(views[0]?.map((m) => m.content)).size).toBe(30);
  } finally {
    for (const peer of peers) peer.close();
  }
}

/** 5. Independence: two chats each start at sequence 1. */
export async function independentChats(stack: Stack): Promise<void> {
  const [alice, bob, carol] = [await user(stack, "a5"), await user(stack, "b5"), await user(stack, "c5")];
  const one = await chatOf(stack, alice, [bob.userId]);
  const two = await chatOf(stack, alice, [carol.userId]);
  const a = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  try {
    expect((await a.sendMessage(one, "first here")).sequence).toBe(1);
    expect((await a.sendMessage(two, "first there")).sequence).toBe(1);
    expect((await a.sendMessage(one, "second here")).sequence).toBe(2);
  } finally {
    a.close();
  }
}

/** Stale reconnect: a client back after missing 40 messages syncs from its old cursor, paged, in order. */
export async function staleReconnect(stack: Stack): Promise<void> {
  const [alice, bob] = [await user(stack, "a6"), await user(stack, "b6")];
  const chatId = await chatOf(stack, alice, [bob.userId]);
  const a = await WsPeer.connect(stack.entryUrl, alice.accessToken, alice.device);
  try {
    await a.sendMessage(chatId, "before");
    for (let i = 0; i < 40; i++) await a.sendMessage(chatId, `missed ${i}`);
    const b = await WsPeer.connect(stack.entryUrl, bob.accessToken, bob.device);
    const all = await b.syncAll(chatId);
    expect(all.map((m) => m.sequence)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    b.close();
  } finally {
    a.close();
  }
}
