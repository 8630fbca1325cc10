import { describe, expect, it } from "vitest";
import { chatCreatedRecord, membershipChangedRecord, messagePersistedRecord } from "../../runtime/events.js";
import type { ChatId, EventId, MessageId, Sequence, UserId } from "../../runtime/ids.js";
import type { ConsumedRecord, EventRecord } from "../../runtime/ports/event-log.js";
import { parseRecord, SENDER_CONNECTION_FIELD } from "./fanout-records.js";

const chatId = "chat_01" as ChatId;
const alice = "user_a" as UserId;
const meta = { eventId: "evt_1" as EventId, producerId: "test", eventTime: Date.UTC(2026, 0, 1) };
const consumed = (record: EventRecord): ConsumedRecord => ({
  ...record,
  topic: "messages.persisted",
  partition: 0,
  offset: "0",
  timestamp: meta.eventTime,
  headers: record.headers ?? {},
});
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const message = {
  chatId,
  sequence: 3 as Sequence,
  messageId: "msg_1" as MessageId,
  senderId: alice,
  clientMessageId: "c-1",
  content: "hi",
  contentType: "text/plain" as const,
  createdAt: meta.eventTime,
};
const envelopeOf = (record: EventRecord) => JSON.parse(new TextDecoder().decode(record.value));

describe("reading records in a fanout worker", () => {
  it("turns a MessagePersisted event back into the stored message", () => {
    expect(parseRecord(consumed(messagePersistedRecord(message, meta)))).toEqual({
      kind: "message",
      message,
      excludeConnectionId: undefined,
      eventVersion: 1,
    });
  });

  it("reads the optional sending connection, and reads an unknown event_version as v1", () => {
    const envelope = envelopeOf(messagePersistedRecord(message, meta));
    envelope.event_version = 2;
    envelope.payload[SENDER_CONNECTION_FIELD] = "conn_1";
    const parsed = parseRecord(consumed({ key: chatId, value: bytes(envelope) }));
    expect(parsed).toMatchObject({ kind: "message", excludeConnectionId: "conn_1", eventVersion: 2 });
  });

  it("reads membership changes and chat creations as invalidations of their chat", () => {
    const changed = membershipChangedRecord(
      {
        chat_id: chatId,
        user_id: alice,
        change_type: "removed",
        role: "member",
        changed_by: alice,
        member_count_after: 1,
        changed_at: "2026-01-01T00:00:00.000Z",
      },
      meta,
    );
    const created = chatCreatedRecord(
      {
        chat_id: chatId,
        chat_type: "group",
        name: "g",
        status: "active",
        created_by: alice,
        member_count: 1,
        initial_members: [alice],
        created_at: "2026-01-01T00:00:00.000Z",
      },
      meta,
    );
    expect(parseRecord(consumed(changed))).toEqual({
      kind: "membership",
      chatId,
      eventType: "MembershipChanged",
    });
    expect(parseRecord(consumed(created))).toEqual({ kind: "membership", chatId, eventType: "ChatCreated" });
  });

  it("calls everything else poison, saying why", () => {
    const valid = envelopeOf(messagePersistedRecord(message, meta));
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.from([0xc3, 0x28]), /UTF-8 JSON/],
      [bytes([1, 2]), /not a JSON object/],
      [bytes({ ...valid, event_type: "MessageExploded" }), /unknown event_type MessageExploded/],
      [bytes({ ...valid, payload: { ...valid.payload, sequence: 0 } }), /no sequence/],
      [bytes({ ...valid, payload: { ...valid.payload, created_at: "yesterday" } }), /no created_at/],
      [
        bytes({ ...valid, event_type: "MembershipChanged", payload: { user_id: alice } }),
        /MembershipChanged has no chat_id/,
      ],
    ];
    for (const [value, reason] of cases) {
      const parsed = parseRecord(consumed({ key: chatId, value }));
      expect(parsed.kind).toBe("poison");
      expect(parsed.kind === "poison" ? parsed.reason : "").toMatch(reason);
    }
  });
});
