import { describe, expect, it } from "vitest";
import type { Message__Output } from "../../proto/generated/messaging/v1/Message.js";
import { messagingProto } from "../../proto/load.js";
import { AppError } from "../errors.js";
import { type ChatId, MAX_SEQUENCE, type MessageId, type Sequence, type UserId } from "../ids.js";
import { CONTENT_TYPES, type StoredMessage } from "../ports/message-store.js";
import { fromProtoMessage, toProtoMessage } from "./message-codec.js";

const message: StoredMessage = {
  chatId: "chat_01JQ7Z8X9Y0000000000000000" as ChatId,
  sequence: 7 as Sequence,
  messageId: "msg_01JQ7Z8X9Y0000000000000007" as MessageId,
  senderId: "user_01JQ7Z8X9Y0000000000000001" as UserId,
  clientMessageId: "c-7",
  content: "héllo 👋",
  contentType: "text/plain",
  createdAt: 1_767_225_600_123,
};

const invalid = (field: string, reason: string): AppError =>
  new AppError("INVALID_MESSAGE", `${field} ${reason}`, { details: { field } });

/** Through the real protobuf encoding (a SyncMessages reply carries Messages), as a peer would receive it. */
function overTheWire(messages: object[]): Message__Output[] {
  const method = messagingProto().messaging.v1.IngestService.service.SyncMessages;
  const bytes = method.responseSerialize({ messages, has_more: false, next_sequence: 0, last_sequence: 0 });
  return method.responseDeserialize(bytes).messages;
}

const decodedField = (wire: object): string | undefined => {
  const [received] = overTheWire([wire]);
  if (received === undefined) throw new Error("nothing decoded");
  try {
    fromProtoMessage(received, invalid);
    return undefined;
  } catch (error) {
    return (error as AppError).details?.field as string | undefined;
  }
};

describe("the StoredMessage <-> messaging.v1.Message codec", () => {
  it("a stored message comes back unchanged after encoding, the wire and decoding", () => {
    const [received] = overTheWire([toProtoMessage(message)]);
    expect(received).toBeDefined();
    expect(fromProtoMessage(received as Message__Output, invalid)).toEqual(message);
  });

  it("sequences keep every digit up to 2^53-1, carried as uint64", () => {
    const highest: StoredMessage = { ...message, sequence: MAX_SEQUENCE as Sequence };
    const [received] = overTheWire([toProtoMessage(highest)]);
    expect(received?.sequence).toBe(MAX_SEQUENCE);
    expect(fromProtoMessage(received as Message__Output, invalid).sequence).toBe(MAX_SEQUENCE);
  });

  it("a sequence past 2^53-1 or of zero is refused, not rounded", () => {
    expect(decodedField({ ...toProtoMessage(message), sequence: "9007199254740993" })).toBe(
      "message.sequence",
    );
    expect(decodedField({ ...toProtoMessage(message), sequence: 0 })).toBe("message.sequence");
  });

  it("every supported content type decodes; any other is refused", () => {
    for (const contentType of CONTENT_TYPES) {
      expect(decodedField({ ...toProtoMessage(message), content_type: contentType })).toBeUndefined();
    }
    expect(decodedField({ ...toProtoMessage(message), content_type: "image/png" })).toBe(
      "message.content_type",
    );
    expect(decodedField({ ...toProtoMessage(message), content_type: "" })).toBe("message.content_type");
  });

  it("empty ids are refused with the field named, through the edge's own error", () => {
    expect(decodedField({ ...toProtoMessage(message), chat_id: "" })).toBe("message.chat_id");
    expect(decodedField({ ...toProtoMessage(message), message_id: "" })).toBe("message.message_id");
    expect(decodedField({ ...toProtoMessage(message), sender_id: "" })).toBe("message.sender_id");
  });
});
