import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { AckRecord, ChaosClient } from "./chaos-client.js";

/** One broken promise, described well enough to debug from the JSON alone. */
export interface Violation {
  readonly kind:
    | "acknowledged_message_lost"
    | "duplicate_message"
    | "sequence_gap"
    | "member_order_differs"
    | "client_not_converged"
    | "delivery_state_decreased"
    | "message_not_published";
  readonly chatId: string;
  readonly detail: string;
}

export interface CheckInput {
  /** Every chat of the run with its members' user ids. */
  readonly chats: ReadonlyMap<string, readonly string[]>;
  /** What storage holds per chat, ascending. */
  readonly stored: ReadonlyMap<string, readonly StoredMessage[]>;
  readonly clients: readonly ChaosClient[];
  /** `(chat, sequence)` pairs seen on `messages.persisted`. */
  readonly published: ReadonlySet<string>;
  /** Samples of delivery_state taken during the run, per `user|chat`, in the order taken. */
  readonly deliverySamples: ReadonlyMap<string, readonly number[]>;
}

const key = (chatId: string, sequence: number) => `${chatId}#${sequence}`;

/**
 * The invariants of ARCHITECTURE.md §6 as seen from outside: client logs against storage and the event log.
 * (1) no acknowledged message lost, (2) no duplicate and no gap, (3) one order for every member, (4) every
 * client converged on storage, (5) delivery_state never decreased, (6) every stored message published.
 */
export function check(input: CheckInput): Violation[] {
  const violations: Violation[] = [];
  const acks: AckRecord[] = input.clients.flatMap((client) => client.acks);
  for (const [chatId, stored] of input.stored) {
    stored.forEach((message, index) => {
      if (message.sequence !== index + 1) {
        violations.push({
          kind: "sequence_gap",
          chatId,
          detail: `position ${index + 1} holds sequence ${message.sequence}`,
        });
      }
    });
    const byClientId = new Map<string, StoredMessage[]>();
    for (const message of stored)
      byClientId.set(message.clientMessageId, [...(byClientId.get(message.clientMessageId) ?? []), message]);
    for (const [clientMessageId, copies] of byClientId) {
      if (copies.length > 1) {
        violations.push({
          kind: "duplicate_message",
          chatId,
          detail: `client_message_id ${clientMessageId} stored at sequences ${copies.map((m) => m.sequence).join(", ")}`,
        });
      }
    }
    for (const message of stored) {
      if (!input.published.has(key(chatId, message.sequence))) {
        violations.push({
          kind: "message_not_published",
          chatId,
          detail: `sequence ${message.sequence} never reached messages.persisted`,
        });
      }
    }
  }
  for (const ack of acks) {
    const stored = input.stored.get(ack.chatId)?.[ack.sequence - 1];
    if (
      stored === undefined ||
      stored.messageId !== ack.messageId ||
      stored.clientMessageId !== ack.clientMessageId
    ) {
      violations.push({
        kind: "acknowledged_message_lost",
        chatId: ack.chatId,
        detail: `ack of ${ack.clientMessageId} named sequence ${ack.sequence} (${ack.messageId}); storage holds ${stored === undefined ? "nothing" : `${stored.messageId}/${stored.clientMessageId}`}`,
      });
    }
  }
  for (const [chatId, members] of input.chats) {
    const stored = input.stored.get(chatId) ?? [];
    const expected = stored.map((m) => `${m.sequence}:${m.messageId}`).join(",");
    let firstOrder: string | undefined;
    for (const client of input.clients) {
      if (!members.includes(client.userId)) continue;
      const seen = client
        .messagesOf(chatId)
        .map((m) => `${m.sequence}:${m.messageId}`)
        .join(",");
      firstOrder ??= seen;
      if (seen !== firstOrder) {
        violations.push({
          kind: "member_order_differs",
          chatId,
          detail: `${client.userId} saw another order than the first member`,
        });
      }
      if (seen !== expected) {
        violations.push({
          kind: "client_not_converged",
          chatId,
          detail: `${client.userId} holds ${client.messagesOf(chatId).length} messages, storage ${stored.length}`,
        });
      }
    }
  }
  for (const [pair, samples] of input.deliverySamples) {
    for (let i = 1; i < samples.length; i++) {
      if ((samples[i] ?? 0) < (samples[i - 1] ?? 0)) {
        violations.push({
          kind: "delivery_state_decreased",
          chatId: pair.split("|")[1] ?? "",
          detail: `${pair}: ${samples[i - 1]} then ${samples[i]}`,
        });
      }
    }
  }
  return violations;
}
