import { type Failpoints, NO_FAILPOINTS } from "../../actors/chat-sequencer/failpoints.js";
import { IngestService, type IngestServiceOptions } from "../../actors/chat-sequencer/ingest-service.js";
import { DynamoActivationStore } from "../../runtime/adapters/dynamodb/activation-store.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { ManualClock } from "../../runtime/clock.js";
import {
  decodeEnvelope,
  type MessagePersistedPayload,
  messagePersistedPayload,
} from "../../runtime/events.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import type { EventLog, Subscription } from "../../runtime/ports/event-log.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import { TOPICS } from "../../runtime/topics.js";
import { createActiveChat } from "./chats.js";
import { uniqueName } from "./engines.js";

/**
 * Ingest runtimes on the real engines: DynamoDB (dynalite) under a table prefix of its own, and Kafka (or
 * the in-process log), with a ManualClock for every timer of ours. A "runtime" is what one ingest process
 * holds; a crash test abandons one and starts another on the same storage, as a restarted process would.
 */
export interface IngestFixture {
  readonly clock: ManualClock;
  readonly ids: IdFactory;
  readonly messageStore: DynamoMessageStore;
  readonly chatStore: DynamoChatStore;
  /** Activation markers on the fixture's tables. */
  readonly activations: DynamoActivationStore;
  readonly eventLog: EventLog;
  /** A new ingest process on the same storage and log. */
  runtime(options?: {
    failpoints?: Failpoints;
    producerId?: string;
    eventLog?: EventLog;
    /** This runtime's view of the shared store, e.g. one that injects a failure; default: the store itself. */
    messageStore?: MessageStore;
    ownership?: IngestServiceOptions["ownership"];
    activations?: IngestServiceOptions["activations"];
    idleTimeoutMs?: number;
  }): IngestService;
  /** An active group chat whose members are the given users (the first is its owner). */
  chatWith(members: readonly UserId[]): Promise<ChatId>;
  /** Writes the acks every runtime holds behind (D16 rule 9) now, as a passivation or shutdown would. */
  flushAcks(): Promise<void>;
  /** Every MessagePersisted event of the given chats seen on the log so far, in arrival order. */
  readonly events: EventCollector;
  cleanup(): Promise<void>;
}

export class EventCollector {
  readonly seen: MessagePersistedPayload[] = [];
  subscription: Subscription | undefined;

  of(chatId: ChatId): MessagePersistedPayload[] {
    return this.seen.filter((event) => event.chat_id === chatId);
  }

  /** Distinct sequences published for a chat, ascending. */
  sequencesOf(chatId: ChatId): number[] {
    return [...new Set(this.of(chatId).map((event) => event.sequence))].sort((a, b) => a - b);
  }
}

export async function ingestFixture(engines: { dynamodb: string; kafka?: string }): Promise<IngestFixture> {
  const clock = new ManualClock(Date.now());
  const ids = new IdFactory(clock);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const client = createDynamoClient({ endpoint: engines.dynamodb, region: "us-east-1" });
  const tablePrefix = uniqueName("ingest");
  await ensureTables(client, tablePrefix);
  const messageStore = new DynamoMessageStore({ client, tablePrefix, clock });
  const chatStore = new DynamoChatStore({ client, tablePrefix, clock });
  const eventLog: EventLog =
    engines.kafka === undefined
      ? new InProcessEventLog({ clock })
      : new KafkaEventLog({ brokers: engines.kafka.split(","), clientId: uniqueName("ingest-test-") });
  await eventLog.ensureTopics([{ name: TOPICS.messagesPersisted, partitions: 8 }]);
  const events = new EventCollector();
  events.subscription = await eventLog.subscribe({
    groupId: uniqueName("collector-"),
    topics: [TOPICS.messagesPersisted],
    fromBeginning: false,
    handle: async (batch) => {
      for (const record of batch.records)
        events.seen.push(messagePersistedPayload(decodeEnvelope(record.value)));
    },
  });
  const runtimes: IngestService[] = [];
  return {
    clock,
    ids,
    messageStore,
    chatStore,
    activations: new DynamoActivationStore({ client, tablePrefix }),
    eventLog,
    events,
    runtime: (options = {}) => {
      const service = new IngestService({
        messageStore: options.messageStore ?? messageStore,
        chatStore,
        eventLog: options.eventLog ?? eventLog,
        clock,
        ids,
        logger,
        producerId: options.producerId ?? uniqueName("ingest-"),
        failpoints: options.failpoints ?? NO_FAILPOINTS,
        ...(options.ownership === undefined ? {} : { ownership: options.ownership }),
        ...(options.activations === undefined ? {} : { activations: options.activations }),
        ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      });
      runtimes.push(service);
      return service;
    },
    chatWith: (members) => createActiveChat(chatStore, { ids, clock }, members),
    flushAcks: async () => {
      for (const runtime of runtimes) await runtime.deliveryWrites.flushAll();
    },
    cleanup: async () => {
      for (const runtime of runtimes) {
        for (const chatId of runtime.host.activeKeys()) runtime.sequencerOf(chatId)?.dispose();
      }
      await events.subscription?.stop();
      await eventLog.close();
      await deleteTables(client, tablePrefix).catch(() => {});
      client.destroy();
    },
  };
}
