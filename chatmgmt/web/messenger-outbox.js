// The outbox of this device (MS-01..07): a send is kept in localStorage under its client_message_id until its
// send_message_ack, sent again with the same id after a transient failure, and marked failed for good after a
// final refusal. State lives on the Messenger; these are its sending steps.

import { RequestFailed } from "./connection.js";

/** @typedef {import("./messenger.js").Messenger} Messenger */
/** @typedef {import("./local-store.js").Outgoing} Outgoing */

/** Codes after which a send is never retried (spec/protocol.md §6). */
const FINAL_SEND_ERRORS = new Set([
  "INVALID_MESSAGE",
  "FORBIDDEN",
  "NOT_A_MEMBER",
  "NOT_FOUND",
  "MESSAGE_TOO_LARGE",
  "INVALID_CONTENT_TYPE",
]);

/** Sends one queued message unless it is in flight or failed. @param {Messenger} m @param {Outgoing} item */
export async function transmit(m, item) {
  if (m.inFlight.has(item.client_message_id) || item.failed !== undefined) return;
  m.inFlight.add(item.client_message_id);
  try {
    const reply = await m.connection.request("send_message", {
      client_message_id: item.client_message_id,
      chat_id: item.chat_id,
      content: item.content,
      content_type: "text/plain",
    });
    acknowledged(m, reply.payload);
  } catch (error) {
    const code = error instanceof RequestFailed ? error.code : "INTERNAL_ERROR";
    if (FINAL_SEND_ERRORS.has(code)) {
      item.failed = error instanceof Error ? error.message : code;
      m.saveOutbox();
      m.touch(item.chat_id);
      m.emit();
    } else if (code === "UNAUTHORIZED") {
      await m.deps.api.refresh();
      m.connection.restart();
    } else if (code !== "NOT_CONNECTED") {
      // RATE_LIMITED, SERVICE_UNAVAILABLE, INTERNAL_ERROR, a timeout: the same id again, later (EH-04).
      scheduleOutboxRetry(m);
    }
  } finally {
    m.inFlight.delete(item.client_message_id);
  }
}

/**
 * A `send_message_ack`: the message is durably stored (D1). It leaves the outbox and joins the chat at its
 * sequence (once, even if its push arrived first). Late acks of a timed-out try land here too.
 * @param {Messenger} m
 * @param {{ client_message_id: string, message_id: string, chat_id: string, sequence: number, created_at: string }} ack
 */
export function acknowledged(m, ack) {
  const item = m.outbox.find((entry) => entry.client_message_id === ack.client_message_id);
  if (item === undefined) return;
  m.outbox = m.outbox.filter((entry) => entry !== item);
  m.insert(item.chat_id, {
    message_id: ack.message_id,
    chat_id: item.chat_id,
    sequence: ack.sequence,
    sender_id: m.deps.api.me?.user_id ?? "",
    content: item.content,
    created_at: ack.created_at,
  });
  m.persistDirty();
  m.saveOutbox();
  m.emit();
}

/** A transient failure: the whole outbox is tried again in 2-3 s (jittered). @param {Messenger} m */
export function scheduleOutboxRetry(m) {
  clearTimeout(m.retryTimer);
  m.retryTimer = setTimeout(() => flushOutbox(m), 2_000 + Math.random() * 1_000);
}

/** @param {Messenger} m */
export function flushOutbox(m) {
  if (m.connection.state !== "online") return;
  for (const item of m.outbox) void transmit(m, item);
}
