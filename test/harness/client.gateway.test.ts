import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatId, UserId } from "../../runtime/ids.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { ClientError } from "./client.js";
import type { ClientStateName } from "./client.machine.js";
import { type HarnessWorld, harnessWorld } from "./harness-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

/**
 * The reference client through the real gateway over a real WebSocket, with a real IngestService on dynalite
 * and Kafka behind it. Requirement ids are those of spec/client-contract.md.
 */
describe.skipIf(!dynamodb || !redisUrl || !kafka)("reference client against the real gateway", () => {
  let world: HarnessWorld;
  let alice: UserId;
  let bob: UserId;

  beforeAll(async () => {
    world = await harnessWorld({ dynamodb: dynamodb ?? "", redis: redisUrl ?? "", kafka: kafka ?? "" });
    alice = world.fixture.ids.user();
    bob = world.fixture.ids.user();
  });

  afterAll(async () => {
    await world?.close();
  });

  const chat = (): Promise<ChatId> => world.fixture.chatWith([alice, bob]);

  it("CL-01..CL-03, RS-01, MS-01/03/04: connects through every state, syncs, then sends and gets the stored sequence", async () => {
    const chatId = await chat();
    const { client, sent } = world.client(alice, { chats: [chatId] });
    const states: ClientStateName[] = [];
    const wire: string[] = [];
    client.on("state", ({ state }) => states.push(state));
    client.on("received", (frame) => wire.push(`in:${frame.type}`));
    client.on("sent", (frame) => wire.push(`out:${frame.type}`));
    await client.connect();
    expect(states).toEqual(["Connecting", "Authenticating", "Connected", "Syncing", "Ready"]);
    // CL-03: the first frame out follows connection_established; RS-01: it is the chat's sync.
    expect(wire.slice(0, 3)).toEqual(["in:connection_established", "out:sync_request", "in:sync_response"]);

    const ack = await client.send(chatId, "héllo 👋");
    expect(ack.sequence).toBe(1);
    const stored = await world.fixture.messageStore.getMessage(chatId, ack.sequence as never);
    expect(stored).toMatchObject({
      content: "héllo 👋",
      senderId: alice,
      clientMessageId: ack.clientMessageId,
    });
    expect(ack.clientMessageId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const sends = sent.filter((frame) => frame.type === "send_message");
    expect(sends).toHaveLength(1);
    const requestIds = sent.flatMap((frame) => ("request_id" in frame ? [frame.request_id] : []));
    expect(new Set(requestIds).size).toBe(requestIds.length);
    expect(client.messages(chatId).map((m) => m.content)).toEqual(["héllo 👋"]);
    expect(client.pendingSends()).toEqual([]);
    await client.close();
  });

  it("MS-06: content outside 1–4096 UTF-8 bytes is refused before anything is sent", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice);
    await client.connect();
    await expect(client.send(chatId, "")).rejects.toMatchObject({ code: "INVALID_MESSAGE" });
    await expect(client.send(chatId, "é".repeat(2049))).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    await expect(client.send(chatId, "x".repeat(4097))).rejects.toBeInstanceOf(ClientError);
    expect(sentOfType("send_message")).toHaveLength(0);
    expect((await client.send(chatId, "é".repeat(2048))).sequence).toBe(1);
    await client.close();
  });

  it("MS-02/MS-03: a send whose ack is late goes out again with the same client_message_id and is stored once", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice);
    await client.connect();
    world.late.hold(1);
    const acked = client.send(chatId, "only once");
    await waitFor(() => world.late.heldCount === 1, { what: "the first persist to be held" });
    const timeouts: string[] = [];
    client.on("send_timeout", ({ clientMessageId }) => timeouts.push(clientMessageId));
    world.fixture.clock.advance(9_999);
    expect(sentOfType("send_message")).toHaveLength(1);
    world.fixture.clock.advance(1);
    const ack = await acked;
    const sends = sentOfType("send_message");
    expect(sends).toHaveLength(2);
    expect(timeouts).toEqual([ack.clientMessageId]);
    expect(sends.map((frame) => frame.payload.client_message_id)).toEqual([
      ack.clientMessageId,
      ack.clientMessageId,
    ]);
    expect(sends[0]?.request_id).not.toBe(sends[1]?.request_id);
    world.late.release();
    const all = await world.fixture.messageStore.readMessages(chatId, { limit: 100, order: "asc" });
    expect(all.filter((message) => message.clientMessageId === ack.clientMessageId)).toHaveLength(1);
    expect(all).toHaveLength(1);
    expect(client.messages(chatId)).toHaveLength(1);
    await client.close();
  });

  it("MS-02, EH-04: a send the durability plane failed (SERVICE_UNAVAILABLE) is retried with backoff and the same id", async () => {
    const chatId = await chat();
    const { client, sentOfType } = world.client(alice);
    await client.connect();
    const failures: string[] = [];
    client.on("send_failed", ({ code }) => failures.push(code));
    const retries: number[] = [];
    client.on("send_retry", ({ delayMs }) => retries.push(delayMs));
    const codes: string[] = [];
    client.on("server_error", ({ code }) => codes.push(code));
    world.failpoints.arm("after-message-write");
    const acked = client.send(chatId, "after a crash");
    await waitFor(() => retries.length === 1, { what: "the retry of the failed persist" });
    // A crash after the message write reaches the client as SERVICE_UNAVAILABLE: transient (EH-04).
    expect(codes).toContain("SERVICE_UNAVAILABLE");
    expect(failures).toEqual([]);
    expect(retries[0]).toBeGreaterThanOrEqual(750);
    expect(retries[0]).toBeLessThanOrEqual(1_250);
    await world.advance(1_250, 250);
    const ack = await acked;
    const sends = sentOfType("send_message");
    expect(sends).toHaveLength(2);
    expect(new Set(sends.map((frame) => frame.payload.client_message_id))).toEqual(
      new Set([ack.clientMessageId]),
    );
    const all = await world.fixture.messageStore.readMessages(chatId, { limit: 100, order: "asc" });
    expect(all.map((message) => message.clientMessageId)).toEqual([ack.clientMessageId]);
    await client.close();
  });

  it("EH-01 RATE_LIMITED, MS-05: sends over the per-chat burst wait retry_after and all land once, in order", async () => {
    const chatId = await chat();
    const { client } = world.client(alice);
    await client.connect();
    const limited: string[] = [];
    client.on("server_error", ({ code }) => limited.push(code));
    const acks = Array.from({ length: 25 }, (_, index) => client.send(chatId, `burst ${index}`));
    await waitFor(() => limited.length === 5, { what: "five RATE_LIMITED answers" });
    expect(new Set(limited)).toEqual(new Set(["RATE_LIMITED"]));
    await world.advance(2_000, 500);
    const results = await Promise.all(acks);
    expect(new Set(results.map((ack) => ack.sequence)).size).toBe(25);
    // MS-05: 25 logical messages, 25 client_message_ids, none reused.
    expect(new Set(results.map((ack) => ack.clientMessageId)).size).toBe(25);
    const all = await world.fixture.messageStore.readMessages(chatId, { limit: 100, order: "asc" });
    expect(all).toHaveLength(25);
    expect(client.messages(chatId).map((message) => message.sequence)).toEqual(all.map((m) => m.sequence));
    await client.close();
  });

  it("RS-04, EH-03: NOT_A_MEMBER is never retried and drops the chat; a later send is still tried", async () => {
    const foreign = await world.fixture.chatWith([bob]);
    const { client, sentOfType } = world.client(alice);
    await client.connect();
    await expect(client.send(foreign, "let me in")).rejects.toMatchObject({ code: "NOT_A_MEMBER" });
    expect(client.droppedReason(foreign)).toBe("NOT_A_MEMBER");
    expect(client.chats()).not.toContain(foreign);
    expect(client.pendingSends()).toEqual([]);
    await world.advance(60_000, 5_000);
    expect(sentOfType("send_message")).toHaveLength(1);
    // The membership decision is not cached: once alice is added, a new send goes through.
    await world.fixture.chatStore.addMembership({
      chatId: foreign,
      userId: alice,
      role: "member",
      joinedAt: world.fixture.clock.now(),
      updatedAt: world.fixture.clock.now(),
    });
    expect((await client.send(foreign, "now a member")).sequence).toBe(1);
    expect(client.droppedReason(foreign)).toBeNull();
    await client.close();
  });

  it("MS-04: an unacknowledged send is in the state file, with its client_message_id, until its ack", async () => {
    const chatId = await chat();
    const tested = world.client(alice);
    await tested.client.connect();
    world.late.hold(1);
    const acked = tested.client.send(chatId, "durable first");
    await waitFor(() => world.late.heldCount === 1, { what: "the persist to be held" });
    const onDisk = JSON.parse(readFileSync(tested.stateFile, "utf8")) as {
      outbox: Array<Record<string, unknown>>;
    };
    expect(onDisk.outbox).toEqual([expect.objectContaining({ chat_id: chatId, content: "durable first" })]);
    world.late.release();
    const ack = await acked;
    expect(onDisk.outbox[0]?.client_message_id).toBe(ack.clientMessageId);
    const after = JSON.parse(readFileSync(tested.stateFile, "utf8")) as { outbox: unknown[] };
    expect(after.outbox).toEqual([]);
    await tested.client.close();
  });
});
