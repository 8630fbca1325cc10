import { describe, expect, it } from "vitest";
import { isAppError } from "./errors.js";
import { decodeEnvelope, messagePersistedPayload, messagePersistedRecord } from "./events.js";
import type { ChatId, EventId, MessageId, Sequence, UserId } from "./ids.js";
import type { StoredMessage } from "./ports/message-store.js";

const message: StoredMessage = {
  chatId: "chat_01KG9QXGB40000000000000000" as ChatId,
  sequence: 42 as Sequence,
  messageId: "msg_01KG9QXGB40000000000000001" as MessageId,
  senderId: "user_01KG9QXGB40000000000000002" as UserId,
  clientMessageId: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  content: "héllo 🎉",
  contentType: "text/plain",
  createdAt: Date.UTC(2026, 0, 31, 10, 0, 0, 100),
};

const poison = (value: string) => (): unknown => decodeEnvelope(new TextEncoder().encode(value));
const invalid = (error: unknown) => isAppError(error) && error.code === "INVALID_MESSAGE";

describe("event envelopes", () => {
  it("encode MessagePersisted with every envelope field, keyed by chat_id, and decode back", () => {
    const record = messagePersistedRecord(message, {
      eventId: "evt_01KG9QXGB40000000000000003" as EventId,
      producerId: "ingest-1",
      eventTime: Date.UTC(2026, 0, 31, 10, 0, 0, 200),
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(record.key).toBe(message.chatId);
    const envelope = decodeEnvelope(record.value);
    expect(envelope).toMatchObject({
      event_id: "evt_01KG9QXGB40000000000000003",
      event_type: "MessagePersisted",
      event_version: 1,
      event_time: "2026-01-31T10:00:00.200Z",
      partition_key: message.chatId,
      producer_id: "ingest-1",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
    expect(messagePersistedPayload(envelope)).toEqual({
      message_id: message.messageId,
      chat_id: message.chatId,
      sequence: 42,
      sender_id: message.senderId,
      content: "héllo 🎉",
      content_type: "text/plain",
      client_message_id: message.clientMessageId,
      created_at: "2026-01-31T10:00:00.100Z",
    });
  });

  it("reject poison records as INVALID_MESSAGE: not JSON, not an envelope, an unknown type", () => {
    expect(poison("{not json")).toThrowError(expect.objectContaining({ code: "INVALID_MESSAGE" }));
    expect(poison("[1,2]")).toThrow();
    expect(poison(JSON.stringify({ event_type: "MessagePersisted" }))).toThrow(/event_id/);
    const unknownType = JSON.stringify({
      event_id: "e",
      event_type: "MessageExploded",
      event_version: 1,
      event_time: "t",
      partition_key: "k",
      producer_id: "p",
      trace_id: "t",
      payload: {},
    });
    expect(poison(unknownType)).toThrow(/unknown event_type/);
    try {
      poison(unknownType)();
    } catch (error) {
      expect(invalid(error)).toBe(true);
    }
  });
});
