import { AppError } from "../../runtime/errors.js";
import { isChatId, isUserId } from "../../runtime/ids.js";
import type { AckRequest, PersistRequest, SyncRequest } from "../../runtime/ingest-api.js";
import { CONTENT_TYPES } from "../../runtime/ports/message-store.js";
import { MAX_CONTENT_BYTES } from "../../runtime/protocol-limits.js";

/**
 * The durability plane defends itself: gateways validate frames too, but nothing reaches storage that breaks
 * the limits of D9 or the id formats of D13, whoever the caller is.
 */
/** Client-made UUIDv4 (36 characters); other printable ids up to that length are accepted. */
const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,36}$/;

const invalid = (field: string, message: string): AppError =>
  new AppError("INVALID_MESSAGE", message, { details: { field } });

function checkChatAndUser(chatId: string, userId: string, userField: string): void {
  if (typeof chatId !== "string" || !isChatId(chatId)) throw invalid("chat_id", "chat_id is not a chat id");
  if (typeof userId !== "string" || !isUserId(userId))
    throw invalid(userField, `${userField} is not a user id`);
}

export function validatePersist(request: PersistRequest): void {
  checkChatAndUser(request.chatId, request.senderId, "sender_id");
  if (typeof request.clientMessageId !== "string" || !CLIENT_MESSAGE_ID.test(request.clientMessageId)) {
    throw invalid(
      "client_message_id",
      "client_message_id must be 1-36 characters of letters, digits, - or _",
    );
  }
  if (!(CONTENT_TYPES as readonly string[]).includes(request.contentType)) {
    throw new AppError("INVALID_CONTENT_TYPE", `content_type must be one of ${CONTENT_TYPES.join(", ")}`, {
      details: { field: "content_type", supported: CONTENT_TYPES },
    });
  }
  if (typeof request.content !== "string") throw invalid("content", "content must be a string");
  const bytes = Buffer.byteLength(request.content, "utf8");
  if (bytes === 0) throw invalid("content", "content must not be empty");
  if (bytes > MAX_CONTENT_BYTES) {
    throw new AppError("MESSAGE_TOO_LARGE", `content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}`, {
      details: { field: "content", max_bytes: MAX_CONTENT_BYTES, received_bytes: bytes },
    });
  }
}

export function validateSync(request: SyncRequest): void {
  checkChatAndUser(request.chatId, request.userId, "user_id");
  if (!Number.isSafeInteger(request.afterSequence) || request.afterSequence < 0) {
    throw invalid("after_sequence", "after_sequence must be an integer >= 0");
  }
  if (request.limit !== undefined && (!Number.isSafeInteger(request.limit) || request.limit < 0)) {
    throw invalid("limit", "limit must be an integer >= 0");
  }
}

export function validateAck(request: AckRequest): void {
  checkChatAndUser(request.chatId, request.userId, "user_id");
  if (!Number.isSafeInteger(request.sequence) || request.sequence < 1) {
    throw invalid("sequence", "sequence must be an integer >= 1");
  }
}
