import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import {
  decodeEnvelope,
  type MessagePersistedPayload,
  messagePersistedPayload,
} from "../../runtime/events.js";
import type { ChatId } from "../../runtime/ids.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import { TOPICS } from "../../runtime/topics.js";
import { uniqueName } from "./engines.js";

/** Every stored message of a chat, ascending, page after page: what checkers compare clients against. */
export async function readAllMessages(store: MessageStore, chatId: ChatId): Promise<StoredMessage[]> {
  const all: StoredMessage[] = [];
  for (;;) {
    const page = await store.readMessages(chatId, {
      after: all.at(-1)?.sequence ?? 0,
      limit: 1000,
      order: "asc",
    });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/**
 * MessagePersisted events of some chats on `messages.persisted`, read from the beginning of the topic by a
 * group of its own, until `until(seen)` holds or `timeoutMs` passes. The topic is shared with every other
 * suite on the broker: records of other chats, and poison records, are skipped.
 */
export async function persistedEvents(
  brokers: string,
  chatIds: ReadonlySet<string>,
  until: (seen: readonly MessagePersistedPayload[]) => boolean,
  timeoutMs: number,
): Promise<MessagePersistedPayload[]> {
  const seen: MessagePersistedPayload[] = [];
  const log = new KafkaEventLog({ brokers: brokers.split(","), clientId: uniqueName("event-reader-") });
  try {
    const subscription = await log.subscribe({
      groupId: uniqueName("event-reader-"),
      topics: [TOPICS.messagesPersisted],
      fromBeginning: true,
      handle: async (batch) => {
        for (const record of batch.records) {
          try {
            const event = messagePersistedPayload(decodeEnvelope(record.value));
            if (chatIds.has(event.chat_id)) seen.push(event);
          } catch {
            // another suite's poison record
          }
        }
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!until(seen) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    await subscription.stop();
  } finally {
    await log.close();
  }
  return seen;
}
