import { describe, expect, it } from "vitest";
import {
  type CheckInput,
  type ClientRecord,
  check,
  type PublishedEvent,
  type StoredRecord,
} from "./checker.js";

/**
 * The chaos checker fed synthetic histories: a consistent one reports nothing, and each kind of broken
 * promise, planted alone, is reported as its own kind. No engine runs here.
 */
const CHAT = "chat_a";
const MEMBERS = ["user_1", "user_2"];

const message = (sequence: number, clientMessageId = `cmid_${sequence}`): StoredRecord => ({
  sequence,
  messageId: `msg_${sequence}`,
  clientMessageId,
  content: `hello ${sequence}`,
});
const event = (m: StoredRecord): PublishedEvent => ({
  chatId: CHAT,
  sequence: m.sequence,
  messageId: m.messageId,
  content: m.content,
});
/** Who sent a stored message: members take turns. */
const senderOf = (sequence: number) => MEMBERS[(sequence - 1) % MEMBERS.length] ?? "";

/**
 * A consistent history of `stored`: each sender holds an ack of its messages, every other member got each
 * by push in sequence order, everyone holds everything, and every message was published before the settle
 * window closed, in order.
 */
function history(stored: readonly StoredRecord[] = [message(1), message(2), message(3)]): CheckInput {
  const clients: ClientRecord[] = MEMBERS.map((userId) => ({
    userId,
    acks: stored
      .filter((m) => senderOf(m.sequence) === userId)
      .map((m) => ({
        chatId: CHAT,
        clientMessageId: m.clientMessageId,
        sequence: m.sequence,
        messageId: m.messageId,
      })),
    receipts: stored
      .filter((m) => senderOf(m.sequence) !== userId)
      .map((m) => ({ chatId: CHAT, sequence: m.sequence, via: "push" as const })),
    held: new Map([
      [CHAT, stored.map(({ sequence, messageId, content }) => ({ sequence, messageId, content }))],
    ]),
  }));
  const log = stored.map(event);
  return {
    chats: new Map([[CHAT, MEMBERS]]),
    stored: new Map([[CHAT, stored]]),
    clients,
    log,
    settled: { stored: new Map([[CHAT, stored]]), published: log },
    deliverySamples: new Map([[`user_1|${CHAT}`, [0, 1, stored.length]]]),
  };
}

const kinds = (input: CheckInput) => check(input).map((violation) => violation.kind);

/** The history with one client's record changed. */
const withClient = (input: CheckInput, userId: string, change: Partial<ClientRecord>): CheckInput => ({
  ...input,
  clients: input.clients.map((client) => (client.userId === userId ? { ...client, ...change } : client)),
});

describe("chaos checker", () => {
  it("reports nothing for a consistent history", () => {
    expect(check(history())).toEqual([]);
  });

  it("reports an acknowledged message that storage does not hold at its sequence", () => {
    const input = history();
    const [first] = input.clients;
    const lostAck = { chatId: CHAT, clientMessageId: "cmid_lost", sequence: 2, messageId: "msg_lost" };
    expect(kinds(withClient(input, "user_1", { acks: [...(first?.acks ?? []), lostAck] }))).toEqual([
      "acknowledged_message_lost",
    ]);
  });

  it("reports one client_message_id stored twice", () => {
    expect(kinds(history([message(1), message(2), message(3, "cmid_1")]))).toEqual(["duplicate_message"]);
  });

  it("reports a gap in the stored sequences", () => {
    expect(kinds(history([message(1), message(2), message(4)]))).toEqual(["sequence_gap"]);
  });

  it("reports a sequence whose first appearance on the log comes after a higher one", () => {
    const input = history();
    const [one, two, three] = input.stored.get(CHAT) ?? [];
    if (one === undefined || two === undefined || three === undefined) throw new Error("three messages");
    const log = [one, three, two].map(event);
    expect(kinds({ ...input, log, settled: { ...input.settled, published: log } })).toEqual([
      "published_out_of_order",
    ]);
  });

  it("accepts republished events as long as first appearances rise (duplicates after a crash, D4)", () => {
    const input = history();
    const stored = input.stored.get(CHAT) ?? [];
    const log = [1, 2, 1, 2, 3, 2, 3].map((sequence) => event(stored[sequence - 1] ?? message(0)));
    expect(check({ ...input, log, settled: { ...input.settled, published: log } })).toEqual([]);
  });

  it("reports a push of a lower sequence after a client received a higher one", () => {
    const input = history([message(1), message(2), message(3), message(4)]);
    const receipts = [3, 1].map((sequence) => ({ chatId: CHAT, sequence, via: "push" as const }));
    expect(kinds(withClient(input, "user_2", { receipts }))).toEqual(["push_out_of_order"]);
  });

  it("accepts a lower push of a sequence the log holds twice: a republication reaching a client whose first push was skipped", () => {
    const input = history([message(1), message(2), message(3), message(4)]);
    const stored = input.stored.get(CHAT) ?? [];
    const log = [1, 2, 3, 1].map((sequence) => event(stored[sequence - 1] ?? message(0)));
    const receipts = [3, 1].map((sequence) => ({ chatId: CHAT, sequence, via: "push" as const }));
    const republished = { ...input, log, settled: { ...input.settled, published: log } };
    expect(kinds(withClient(republished, "user_2", { receipts }))).not.toContain("push_out_of_order");
  });

  it("accepts a gap below a push that a sync fills, and reports a push below what a sync returned", () => {
    const input = history([message(1), message(2), message(3), message(4)]);
    const healed = [
      { chatId: CHAT, sequence: 3, via: "push" as const },
      { chatId: CHAT, sequence: 1, via: "sync" as const },
      { chatId: CHAT, sequence: 2, via: "sync" as const },
      { chatId: CHAT, sequence: 4, via: "push" as const },
    ];
    expect(check(withClient(input, "user_2", { receipts: healed }))).toEqual([]);
    const skippedBySync = [
      { chatId: CHAT, sequence: 2, via: "sync" as const },
      { chatId: CHAT, sequence: 1, via: "push" as const },
    ];
    expect(kinds(withClient(input, "user_2", { receipts: skippedBySync }))).toEqual(["push_out_of_order"]);
  });

  it("reports a message stored before the settle window that its end did not find published", () => {
    const input = history();
    const published = input.log.filter((e) => e.sequence !== 2);
    const violations = check({ ...input, settled: { ...input.settled, published } });
    expect(violations.map((v) => v.kind)).toEqual(["message_not_published"]);
    expect(violations[0]?.detail).toContain("published only after clients came back");
  });

  it("reports a message stored after the settle window that never reached the log", () => {
    const input = history();
    const settledStored = (input.stored.get(CHAT) ?? []).slice(0, 2);
    const log = input.log.slice(0, 2);
    const violations = check({
      ...input,
      log,
      settled: { stored: new Map([[CHAT, settledStored]]), published: log },
    });
    expect(violations.map((v) => v.kind)).toEqual(["message_not_published"]);
    expect(violations[0]?.detail).toContain("stored after the settle window");
  });

  it("reports an event whose message_id or content differs from the stored message, or that storage lacks", () => {
    const input = history();
    const tampered = input.log.map((e) => (e.sequence === 2 ? { ...e, content: "tampered" } : e));
    expect(kinds({ ...input, log: tampered })).toEqual(["published_content_mismatch"]);
    const phantom = [
      ...input.log,
      { chatId: CHAT, sequence: 4, messageId: "msg_4", content: "never stored" },
    ];
    expect(kinds({ ...input, log: phantom })).toEqual(["published_content_mismatch"]);
  });

  it("reports a member that holds less than storage, or in another order than the others", () => {
    const input = history();
    const held = new Map([[CHAT, (input.stored.get(CHAT) ?? []).slice(0, 2)]]);
    expect(kinds(withClient(input, "user_2", { held }))).toEqual([
      "member_order_differs",
      "client_not_converged",
    ]);
  });

  it("reports delivery_state going down between two samples", () => {
    const input = history();
    expect(kinds({ ...input, deliverySamples: new Map([[`user_1|${CHAT}`, [1, 3, 2]]]) })).toEqual([
      "delivery_state_decreased",
    ]);
  });
});
