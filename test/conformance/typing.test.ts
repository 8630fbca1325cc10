import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TopicReader } from "./support/kafka.js";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import type { User } from "./support/rest.js";
import { waitFor } from "./support/wait.js";
import { randomUlid, World } from "./support/world.js";
import type { WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §5 `typing_start`/`typing_stop` → `typing_indicator` [MVP-opt] and §11 (1/s per chat,
 * ephemeral, expires 10 s after the last start), as this platform implements them: forwarded to every device
 * of the chat's other members (no device of the typing user), ended by a stop, by the expiry (shortened here
 * through the documented WS_TYPING_EXPIRY_MS) or by the typing connection closing; extra starts dropped
 * silently; a non-member answered NOT_A_MEMBER; never stored and never on the event log.
 */
const engines = engineEnv();
const EXPIRY_MS = 1_500;

describe.skipIf(!engines)(
  "conformance: typing indicators (protocol §5, §11)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    const sockets: WsClient[] = [];

    beforeAll(async () => {
      world = await World.start({ env: { WS_TYPING_EXPIRY_MS: String(EXPIRY_MS) } });
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

    const typing = (client: WsClient, type: "typing_start" | "typing_stop", chatId: string) =>
      client.send({ type, payload: { chat_id: chatId } });

    const indicators = (client: WsClient, chatId: string) =>
      client.ofType("typing_indicator").filter((frame) => frame.payload.chat_id === chatId);

    const states = (client: WsClient, chatId: string) =>
      indicators(client, chatId).map((frame) => frame.payload.is_typing);

    it("§5 typing_start reaches every device of the other members as typing_indicator {chat_id, user_id, is_typing: true}; typing_stop sends is_typing: false", async () => {
      const [alice, bob, carol] = (await world.users(3)) as [User, User, User];
      const chat = await world.chat(alice, bob, carol);
      const typist = await open(alice);
      const aliceTablet = await open(alice);
      const bobPhone = await open(bob);
      const bobLaptop = await open(bob);
      const carolPhone = await open(carol);

      typing(typist, "typing_start", chat);
      for (const recipient of [bobPhone, bobLaptop, carolPhone]) {
        const frame = await recipient.next((f) => f.type === "typing_indicator");
        expect(frame.payload).toEqual({ chat_id: chat, user_id: alice.userId, is_typing: true });
        // A push: no request_id, a server timestamp.
        expect(frame.request_id).toBeUndefined();
        expect(typeof frame.timestamp).toBe("string");
      }
      typing(typist, "typing_stop", chat);
      for (const recipient of [bobPhone, bobLaptop, carolPhone]) {
        await waitFor(() => states(recipient, chat).length === 2, { what: "the stop" });
        expect(states(recipient, chat)).toEqual([true, false]);
      }
      // The typing user's own devices show nothing, and the frames are never answered.
      expect(states(aliceTablet, chat)).toEqual([]);
      expect(await typist.framesUntilHeartbeat(1)).toEqual([]);
    });

    it("§11 an indicator expires after the last typing_start without a stop: the recipients get is_typing: false", async () => {
      const [alice, bob] = (await world.users(2)) as [User, User];
      const chat = await world.chat(alice, bob);
      const typist = await open(alice);
      const recipient = await open(bob);
      typing(typist, "typing_start", chat);
      await recipient.next((f) => f.type === "typing_indicator");
      const shownAt = Date.now();
      await waitFor(() => states(recipient, chat).length === 2, { what: "the expiry", timeoutMs: 30_000 });
      expect(states(recipient, chat)).toEqual([true, false]);
      // Not before the expiry (the server's timer started before the first indicator arrived here).
      expect(Date.now() - shownAt).toBeGreaterThanOrEqual(EXPIRY_MS - 200);
    });

    it("the typing connection closing ends its indicator at once", async () => {
      const [alice, bob] = (await world.users(2)) as [User, User];
      const chat = await world.chat(alice, bob);
      const typist = await open(alice);
      const recipient = await open(bob);
      typing(typist, "typing_start", chat);
      await recipient.next((f) => f.type === "typing_indicator");
      typist.close();
      await waitFor(() => states(recipient, chat).length === 2, { what: "the close's indicator" });
      expect(states(recipient, chat)).toEqual([true, false]);
    });

    it("§11 typing_start over 1/s per chat is dropped silently (no error, no close); other chats are not affected", async () => {
      const [alice, bob] = (await world.users(2)) as [User, User];
      const [chat, other] = await Promise.all([world.chat(alice, bob), world.chat(alice, bob)]);
      const typist = await open(alice);
      const recipient = await open(bob);
      const mark = typist.frames.length;
      for (let i = 0; i < 5; i++) typing(typist, "typing_start", chat);
      typing(typist, "typing_start", other);
      typing(typist, "typing_stop", chat);
      typing(typist, "typing_stop", other);
      await waitFor(() => states(recipient, chat).length === 2 && states(recipient, other).length === 2, {
        what: "both chats' stops",
      });
      // Indicators of one chat arrive in order: the stop came after every start that was let through.
      expect(states(recipient, chat)).toEqual([true, false]);
      expect(states(recipient, other)).toEqual([true, false]);
      expect(await typist.framesUntilHeartbeat(mark)).toEqual([]);
      expect(typist.closeInfo).toBeUndefined();
    });

    it("§6 a non-member's typing_start is answered NOT_A_MEMBER (a chat that does not exist: NOT_FOUND) and reaches nobody", async () => {
      const [alice, bob, mallory] = (await world.users(3)) as [User, User, User];
      const chat = await world.chat(alice, bob);
      const intruder = await open(mallory);
      const member = await open(bob);
      typing(intruder, "typing_start", chat);
      const refused = await intruder.next((f) => f.type === "error");
      expect(refused.request_id).toBeUndefined();
      expect(refused.payload).toMatchObject({ code: "NOT_A_MEMBER", message: expect.any(String) });
      typing(intruder, "typing_start", `chat_${randomUlid()}`);
      const missing = await intruder.next((f) => f.type === "error" && f !== refused);
      expect(missing.payload.code).toBe("NOT_FOUND");
      // A member typing afterwards is the only indicator the chat ever shows.
      const typist = await open(alice);
      typing(typist, "typing_start", chat);
      await member.next((f) => f.type === "typing_indicator");
      expect(indicators(member, chat).map((frame) => frame.payload.user_id)).toEqual([alice.userId]);
    });

    it("§5 validation: a typing frame with a bad chat_id is INVALID_MESSAGE naming the field", async () => {
      const [alice] = (await world.users(1)) as [User];
      const client = await open(alice);
      for (const payload of [{}, { chat_id: 42 }, { chat_id: "not-a-chat" }]) {
        const mark = client.frames.length;
        client.send({ type: "typing_start", payload });
        const error = await client.next((f) => f.type === "error", { from: mark });
        expect(error.payload).toMatchObject({ code: "INVALID_MESSAGE", details: { field: "chat_id" } });
      }
    });

    it("§11 ephemeral: typing is never stored (sync shows nothing) and never published to messages.persisted", async () => {
      const [alice, bob] = (await world.users(2)) as [User, User];
      const chat = await world.chat(alice, bob);
      const reader = new TopicReader(engines?.KAFKA_BROKERS ?? "");
      const mark = await reader.mark("messages.persisted");
      const typist = await open(alice);
      const recipient = await open(bob);
      typing(typist, "typing_start", chat);
      typing(typist, "typing_stop", chat);
      await waitFor(() => states(recipient, chat).length === 2, { what: "the indicators" });
      const page = await recipient.request("sync_request", { chat_id: chat, last_acked_sequence: 0 });
      expect(page.payload).toMatchObject({ chat_id: chat, messages: [], has_more: false });
      // A real message after the typing: once its event is on the log, nothing of the chat came before it.
      const sent = await typist.sendMessage(chat, "after typing", randomUUID());
      expect(sent.type).toBe("send_message_ack");
      const records = await reader.records("messages.persisted", mark, (seen) =>
        seen.some((record) => record.key === chat),
      );
      const ofChat = records.filter((record) => record.key === chat);
      expect(ofChat).toHaveLength(1);
      expect(JSON.stringify(ofChat[0]?.value)).toContain(String(sent.payload.message_id));
    });
  },
);
