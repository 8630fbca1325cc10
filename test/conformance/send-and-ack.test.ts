import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TopicReader } from "./support/kafka.js";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import { call, type User } from "./support/rest.js";
import { waitFor } from "./support/wait.js";
import { World } from "./support/world.js";
import { ISO_MS, type WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §1, §9, §12, §13 and client-contract MS-01..MS-05, AK-01..AK-05, server side: what a send
 * is answered with, per-chat sequencing, idempotency by client_message_id, one-way cumulative acks stored as
 * delivery state, pushes to the other members, and the MessagePersisted event read from Kafka.
 */
const engines = engineEnv();
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";

describe.skipIf(!engines)(
  "conformance: send, receive and ack (protocol §9, §12, §13)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    let alice: User;
    let bob: User;
    let carol: User;
    const sockets: WsClient[] = [];

    beforeAll(async () => {
      // Tests poll delivery state over REST: lift the per-user read limit (it has its own test in rest.test.ts).
      world = await World.start({ env: { REST_READS_PER_MINUTE: "100000" } });
      [alice, bob, carol] = (await world.users(3)) as [User, User, User];
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      for (const socket of sockets) socket.close();
      await world?.stop();
    }, HOOK_TIMEOUT_MS);

    const open = async (user: User) => {
      const socket = await world.connect(user);
      sockets.push(socket);
      return socket;
    };

    const syncAll = async (client: WsClient, chatId: string) => {
      const page = await client.request("sync_request", {
        chat_id: chatId,
        last_acked_sequence: 0,
        limit: 500,
      });
      expect(page.type).toBe("sync_response");
      return page.payload.messages as Array<Record<string, unknown>>;
    };

    const membership = async (user: User, chatId: string) => {
      const answer = await call(world.baseUrl, "GET", `/api/v1/chats/${chatId}`, { token: user.accessToken });
      expect(answer.status).toBe(200);
      return answer.body.data as { current_sequence: number; my_membership: { last_acked_sequence: number } };
    };

    it("§5 send_message_ack: client_message_id, message_id (msg_+ULID), chat_id, sequence, created_at (ISO ms)", async () => {
      const chat = await world.chat(alice, bob);
      const client = await open(alice);
      const clientMessageId = randomUUID();
      const ack = await client.sendMessage(chat, "hello", clientMessageId);
      expect(ack.type).toBe("send_message_ack");
      expect(ack.payload).toEqual({
        client_message_id: clientMessageId,
        message_id: expect.stringMatching(new RegExp(`^msg_${ULID}$`)),
        chat_id: chat,
        sequence: 1,
        created_at: expect.stringMatching(ISO_MS),
      });
    });

    it("§1/§2 sequence_monotonic: a chat's sequences start at 1 and grow by one per message; two chats are independent", async () => {
      const [first, second] = await Promise.all([world.chat(alice, bob), world.chat(alice, bob)]);
      const client = await open(alice);
      const sequences: number[] = [];
      for (let i = 0; i < 5; i++)
        sequences.push((await client.sendMessage(first, `m${i}`)).payload.sequence as number);
      expect(sequences).toEqual([1, 2, 3, 4, 5]);
      expect((await client.sendMessage(second, "other chat")).payload.sequence).toBe(1);
    });

    it("§1 ordering: concurrent senders get distinct sequences, and sync shows the one order 1..n without gaps", async () => {
      const chat = await world.chat(alice, bob, carol);
      const clients = await Promise.all([open(alice), open(bob), open(carol)]);
      const acks = await Promise.all(
        clients.flatMap((client, who) =>
          Array.from({ length: 5 }, (_, i) => client.sendMessage(chat, `user ${who} message ${i}`)),
        ),
      );
      const sequences = acks.map((ack) => ack.payload.sequence as number).sort((a, b) => a - b);
      expect(sequences).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      const synced = await syncAll(clients[0] as WsClient, chat);
      expect(synced.map((m) => m.sequence)).toEqual(sequences);
      const byMessageId = new Map(acks.map((ack) => [ack.payload.message_id, ack.payload.sequence]));
      for (const message of synced) expect(byMessageId.get(message.message_id)).toBe(message.sequence);
    });

    it("§13 MS-02 idempotency_guarantee: a retry with the same client_message_id returns the first sequence and message_id; one message is stored", async () => {
      const chat = await world.chat(alice, bob);
      const client = await open(alice);
      const id = randomUUID();
      const first = await client.sendMessage(chat, "once", id);
      const retry = await client.sendMessage(chat, "once", id);
      expect(retry.type).toBe("send_message_ack");
      expect(retry.payload).toMatchObject({
        client_message_id: id,
        sequence: first.payload.sequence,
        message_id: first.payload.message_id,
      });
      expect((await syncAll(client, chat)).filter((m) => m.content === "once")).toHaveLength(1);
    });

    it("§13 idempotency_preserved_across_connections: a resend from a new connection with new content gets the original ack; the original content is kept", async () => {
      const chat = await world.chat(alice, bob);
      const id = randomUUID();
      const before = await open(alice);
      const first = await before.sendMessage(chat, "original", id);
      before.close();
      const after = await open(alice);
      const resend = await after.sendMessage(chat, "changed", id);
      expect(resend.payload).toMatchObject({
        sequence: first.payload.sequence,
        message_id: first.payload.message_id,
      });
      const stored = await syncAll(after, chat);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ content: "original", message_id: first.payload.message_id });
    });

    it("§13: the dedup key is (chat_id, client_message_id) — chat-scoped: the same id in another chat is a new message", async () => {
      const [one, two] = await Promise.all([world.chat(alice, bob), world.chat(alice, bob)]);
      const client = await open(alice);
      const id = randomUUID();
      const a = await client.sendMessage(one, "in one", id);
      const b = await client.sendMessage(two, "in two", id);
      expect(b.type).toBe("send_message_ack");
      expect(b.payload.message_id).not.toBe(a.payload.message_id);
      expect((await syncAll(client, two)).map((m) => m.content)).toEqual(["in two"]);
    });

    it("§13: the dedup key is chat-scoped, not per sender — another member reusing the id gets the original ack", async () => {
      const chat = await world.chat(alice, bob);
      const [a, b] = await Promise.all([open(alice), open(bob)]);
      const id = randomUUID();
      const first = await a.sendMessage(chat, "alice's", id);
      const second = await b.sendMessage(chat, "bob's", id);
      expect(second.type).toBe("send_message_ack");
      expect(second.payload).toMatchObject({
        sequence: first.payload.sequence,
        message_id: first.payload.message_id,
      });
      expect(await syncAll(b, chat)).toEqual([
        expect.objectContaining({ content: "alice's", sender_id: alice.userId }),
      ]);
    });

    it("§5 `message` push: other members receive {message_id, chat_id, sequence, sender_id, content, content_type, created_at} without request_id", async () => {
      const chat = await world.chat(alice, bob);
      const [sender, receiver] = await Promise.all([open(alice), open(bob)]);
      const ack = await sender.sendMessage(chat, "pushed to bob");
      const push = await receiver.next((f) => f.type === "message" && f.payload.chat_id === chat);
      expect(push.request_id).toBeUndefined();
      expect(push.payload).toEqual(
        expect.objectContaining({
          message_id: ack.payload.message_id,
          chat_id: chat,
          sequence: ack.payload.sequence,
          sender_id: alice.userId,
          content: "pushed to bob",
          content_type: "text/plain",
          created_at: ack.payload.created_at,
        }),
      );
    });

    it("§9 ack one_way_messages_no_response: an ack is never answered, even with a request_id", async () => {
      const chat = await world.chat(alice, bob);
      const client = await open(bob);
      await client.sendMessage(chat, "to ack");
      const mark = client.frames.length;
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 1 } });
      client.send({
        type: "ack",
        request_id: randomUUID(),
        payload: { chat_id: chat, last_acked_sequence: 1 },
      });
      expect(await client.framesUntilHeartbeat(mark)).toEqual([]);
    });

    it("§9 AK-01 delivery_state: a cumulative ack is stored; a lower one never decreases it (invariant 4)", async () => {
      const chat = await world.chat(alice, bob);
      const sender = await open(alice);
      for (let i = 1; i <= 4; i++) await sender.sendMessage(chat, `ack me ${i}`);
      const client = await open(bob);
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 3 } });
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence === 3, {
        what: "delivery state 3",
      });
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 1 } });
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 4 } });
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence === 4, {
        what: "delivery state 4",
      });
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 2 } });
      await client.framesUntilHeartbeat(client.frames.length);
      // The lower ack was sent after 4 was stored: whatever happened to it, the state is still 4.
      await client.request("sync_request", { chat_id: chat, last_acked_sequence: 0 });
      expect((await membership(bob, chat)).my_membership.last_acked_sequence).toBe(4);
    });

    it("§9 delivery_state_consistency: an ack above the chat's top persisted sequence never stores more than the top", async () => {
      const chat = await world.chat(alice, bob);
      const sender = await open(alice);
      await sender.sendMessage(chat, "one");
      await sender.sendMessage(chat, "two");
      const client = await open(bob);
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 1 } });
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence === 1, {
        what: "delivery state 1",
      });
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 999 } });
      // Then a valid one behind it: once it is visible, the one above the tail has been handled.
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 2 } });
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence >= 2, {
        what: "delivery state 2",
      });
      const state = await membership(bob, chat);
      expect(state.current_sequence).toBe(2);
      expect(state.my_membership.last_acked_sequence).toBeLessThanOrEqual(state.current_sequence);
    });

    it("AK-04 server side: an ack sent just before a graceful close is stored", async () => {
      const chat = await world.chat(alice, bob);
      const sender = await open(alice);
      await sender.sendMessage(chat, "flush me");
      await sender.sendMessage(chat, "and me");
      const client = await world.connect(bob);
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 2 } });
      client.close();
      expect((await client.closed).code).toBe(1000);
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence === 2, {
        what: "delivery state 2",
      });
    });

    it("AK-05/RS-02 server side: the sync cursor is the client's, not the server's delivery state", async () => {
      const chat = await world.chat(alice, bob);
      const sender = await open(alice);
      for (let i = 1; i <= 3; i++) await sender.sendMessage(chat, `cursor ${i}`);
      const client = await open(bob);
      client.send({ type: "ack", payload: { chat_id: chat, last_acked_sequence: 3 } });
      await waitFor(async () => (await membership(bob, chat)).my_membership.last_acked_sequence === 3, {
        what: "delivery state 3",
      });
      const page = await client.request("sync_request", { chat_id: chat, last_acked_sequence: 1 });
      expect((page.payload.messages as Array<{ sequence: number }>).map((m) => m.sequence)).toEqual([2, 3]);
    });

    it("§12 step 5 (D4): every acknowledged message is published to messages.persisted, keyed by chat_id, as a MessagePersisted envelope", async () => {
      const reader = new TopicReader(engines?.KAFKA_BROKERS ?? "");
      const mark = await reader.mark("messages.persisted");
      const chat = await world.chat(alice, bob);
      const client = await open(alice);
      const acks = [await client.sendMessage(chat, "event one"), await client.sendMessage(chat, "event two")];
      const records = await reader.records("messages.persisted", mark, (all) =>
        acks.every((ack) =>
          all.some(
            (r) =>
              r.key === chat && (r.value.payload as { sequence?: number })?.sequence === ack.payload.sequence,
          ),
        ),
      );
      const ours = records.filter((record) => record.key === chat);
      expect(new Set(ours.map((record) => record.partition)).size).toBe(1);
      for (const ack of acks) {
        const record = ours.find(
          (r) => (r.value.payload as { sequence: number }).sequence === ack.payload.sequence,
        );
        expect(record?.value).toMatchObject({
          event_type: "MessagePersisted",
          event_id: expect.stringMatching(new RegExp(`^evt_${ULID}$`)),
          event_time: expect.stringMatching(ISO_MS),
          partition_key: chat,
          payload: {
            message_id: ack.payload.message_id,
            chat_id: chat,
            sequence: ack.payload.sequence,
            sender_id: alice.userId,
            content: ack.payload.sequence === 1 ? "event one" : "event two",
            content_type: "text/plain",
            created_at: ack.payload.created_at,
          },
        });
      }
    });
  },
);
