import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { ChatManagementStores } from "../chatmgmt/context.js";
import { dynamoChatManagementStores } from "../chatmgmt/stores.js";
import { DynamoActivationStore } from "../runtime/adapters/dynamodb/activation-store.js";
import { scanChatIds } from "../runtime/adapters/dynamodb/chat-scan.js";
import { DynamoChatStore } from "../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../runtime/adapters/dynamodb/client.js";
import { startDynaliteWorker } from "../runtime/adapters/dynamodb/dynalite-worker.js";
import { DynamoMessageStore } from "../runtime/adapters/dynamodb/message-store.js";
import { DynamoRingStore } from "../runtime/adapters/dynamodb/ring-store.js";
import { requireStorageFormat } from "../runtime/adapters/dynamodb/storage-format.js";
import { ensureTables } from "../runtime/adapters/dynamodb/tables.js";
import { KafkaEventLog } from "../runtime/adapters/kafka/event-log.js";
import { MemoryConnectionRegistry } from "../runtime/adapters/memory/connection-registry.js";
import { DevSmsSender } from "../runtime/adapters/memory/dev-sms-sender.js";
import { InProcessEventLog } from "../runtime/adapters/memory/event-log.js";
import { MemoryNodeRegistry } from "../runtime/adapters/memory/node-registry.js";
import { RedisConnectionRegistry } from "../runtime/adapters/redis/connection-registry.js";
import { RedisNodeRegistry } from "../runtime/adapters/redis/node-registry.js";
import { SnsSmsSender } from "../runtime/adapters/sns/sns-sms-sender.js";
import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import type { DependencyCheck } from "../runtime/health.js";
import type { ChatId } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { ActivationStore } from "../runtime/ports/activation-store.js";
import type { ChatStore } from "../runtime/ports/chat-store.js";
import type { EventLog } from "../runtime/ports/event-log.js";
import type { MessageStore } from "../runtime/ports/message-store.js";
import type { RingStore } from "../runtime/ports/ring-store.js";
import type { ConnectionRegistry, NodeRegistry } from "../runtime/ports/routing.js";
import type { SmsSender } from "../runtime/ports/sms-sender.js";
import { topicSpecs } from "../runtime/topics.js";

/**
 * The one place that turns configuration into adapters: DynamoDB (an endpoint, or dynalite on a worker thread
 * of this process under DATA_DIR), Kafka or the in-process log, Redis or memory. Every role is built from
 * what this returns, so a gateway process, an ingest process and the embedded process differ only in
 * configuration.
 */
export interface PlatformAdapters {
  readonly messageStore: MessageStore;
  readonly chatStore: ChatStore;
  readonly eventLog: EventLog;
  readonly connections: ConnectionRegistry;
  readonly nodes: NodeRegistry;
  /** The durable ring configuration of D5. */
  readonly ringStore: RingStore;
  /** Which process holds each active sequencer (recovery of quiet chats after a crash). */
  readonly activations: ActivationStore;
  /**
   * Chat management's stores (users, sessions, OTP requests, REST idempotency keys, rate limits) and the SMS
   * sender SMS_SENDER names (none: chat management decides, see createChatManagement).
   */
  readonly chatManagement: ChatManagementStores & { readonly smsSender?: SmsSender };
  /** Chat ids for operators' placement plans (a Scan: never on a request path). */
  readonly chatIds: (limit: number) => Promise<{ ids: string[]; complete: boolean }>;
  /** What `/health` probes, naming the adapter behind each port. */
  readonly checks: readonly DependencyCheck[];
  /** Closes clients and stops embedded engines, in reverse order of opening. */
  close(): Promise<void>;
}

/** A chat id no chat ever has (ULIDs never use `U`): its counters read is a real round trip that finds nothing. */
const HEALTH_PROBE_CHAT = "chat_UUUUUUUUUUUUUUUUUUUUUUUUUU" as ChatId;

export async function openAdapters(config: Config, logger: Logger, clock: Clock): Promise<PlatformAdapters> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((error: unknown) => logger.warn({ err: error }, "closing an adapter failed"));
    }
  };
  try {
    // Storage: DynamoDB is the authority (D2); embedded, dynalite keeps it on disk so restarts lose nothing,
    // on a thread of its own so that its share of every request runs on the second core.
    let endpoint = config.dynamodbEndpoint;
    let storageLabel = `dynamodb (${endpoint ?? `AWS ${config.awsRegion}`})`;
    if (endpoint === undefined) {
      const path = resolve(config.dataDir, "dynamodb");
      mkdirSync(path, { recursive: true });
      const dynalite = await startDynaliteWorker({ path, progress: (line) => logger.debug(line) });
      closers.push(() => dynalite.stop());
      endpoint = dynalite.endpoint;
      storageLabel = `dynalite ${dynalite.version} (embedded, worker thread, ${path})`;
    }
    const dynamo = createDynamoClient({ endpoint, region: config.awsRegion });
    closers.push(async () => dynamo.destroy());
    await ensureTables(dynamo, config.tablePrefix, (line) => logger.debug(line));
    const storeOptions = { client: dynamo, tablePrefix: config.tablePrefix, clock };
    // D16 rule 10: a table of the previous message format is migrated when this process is the only ingest
    // node over its own embedded storage; anywhere else the operator stops the ingest nodes and migrates.
    await requireStorageFormat({
      ...storeOptions,
      migrate: config.role === "all" && config.dynamodbEndpoint === undefined,
      progress: (line) => logger.info(line),
    });
    const messageStore = new DynamoMessageStore(storeOptions);
    const chatStore = new DynamoChatStore(storeOptions);
    const ringStore = new DynamoRingStore(storeOptions);
    const activations = new DynamoActivationStore(storeOptions);
    const smsSender = openSmsSender(config, logger);
    if (smsSender?.close !== undefined) closers.push(async () => smsSender.close?.());
    const chatManagement = {
      ...dynamoChatManagementStores(storeOptions),
      ...(smsSender === undefined ? {} : { smsSender }),
    };
    const chatIds = (limit: number) => scanChatIds(dynamo, config.tablePrefix, limit);

    // Event log: Kafka in a cluster, the in-process partitioned log when embedded (same port, same contract).
    const brokers = config.kafkaBrokers?.split(",");
    const eventLog: EventLog =
      brokers === undefined
        ? new InProcessEventLog({ clock })
        : new KafkaEventLog({ brokers, clientId: config.nodeId, logger });
    closers.push(() => eventLog.close());
    await eventLog.ensureTopics(topicSpecs(config));

    // Routing, presence and liveness: ephemeral, so memory is enough for one process.
    let connections: ConnectionRegistry;
    let nodes: NodeRegistry;
    if (config.redisUrl === undefined) {
      connections = new MemoryConnectionRegistry({ clock });
      nodes = new MemoryNodeRegistry({ clock });
    } else {
      const redisLog = logger.child({ component: "redis" });
      const options = {
        redis: config.redisUrl,
        keyPrefix: `${config.tablePrefix}routing:`,
        onConnectionError: (error: Error) => redisLog.warn({ err: error.message }, "redis connection failed"),
      };
      const redisConnections = new RedisConnectionRegistry(options);
      const redisNodes = new RedisNodeRegistry(options);
      closers.push(
        () => redisConnections.close(),
        () => redisNodes.close(),
      );
      connections = redisConnections;
      nodes = redisNodes;
    }

    const checks: DependencyCheck[] = [
      { name: "storage", adapter: storageLabel, check: () => messageStore.getCounters(HEALTH_PROBE_CHAT) },
      {
        name: "event_log",
        adapter: brokers === undefined ? "in-process log" : `kafka (${brokers.join(",")})`,
        check: () => eventLog.ping(),
      },
      {
        name: "routing",
        adapter: config.redisUrl === undefined ? "in-memory" : `redis (${redactUrl(config.redisUrl)})`,
        check: () => nodes.liveNodes(),
      },
    ];
    return {
      messageStore,
      chatStore,
      eventLog,
      connections,
      nodes,
      ringStore,
      activations,
      chatManagement,
      chatIds,
      checks,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * SMS_SENDER where chat management runs: SNS, or the dev sender (which logs codes; config.ts allows it only
 * in dev mode).
 */
function openSmsSender(config: Config, logger: Logger): SmsSender | undefined {
  if (config.role !== "all" && config.role !== "chatmgmt") return undefined;
  switch (config.smsSender) {
    case "sns":
      return new SnsSmsSender({
        region: config.snsRegion,
        timeoutMs: config.smsSendTimeoutMs,
        ...(config.snsEndpoint === undefined ? {} : { endpoint: config.snsEndpoint }),
      });
    case "dev":
      return new DevSmsSender(logger.child({ component: "chatmgmt" }));
    case undefined:
      return undefined;
  }
}

/** A Redis URL without its password, for health output and logs. */
function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
