import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import {
  FANOUT_DEFAULTS,
  type FanoutOptions,
  type FanoutTopics,
  type FanoutWorker,
  type GatewayNode,
  startFanoutWorker,
} from "../../actors/fanout/index.js";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { RedisConnectionRegistry } from "../../runtime/adapters/redis/connection-registry.js";
import { RedisNodeRegistry } from "../../runtime/adapters/redis/node-registry.js";
import { decodeEnvelope } from "../../runtime/events.js";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import { GatewayGrpcClient } from "../../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../../runtime/grpc/gateway-server.js";
import { startGrpcServer } from "../../runtime/grpc/grpc-server.js";
import type { ChatId, ConnectionId, UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  PublishedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../runtime/ports/event-log.js";
import type { ConnectionRegistry, NodeRegistry } from "../../runtime/ports/routing.js";
import { TOPICS } from "../../runtime/topics.js";
import { uniqueName } from "../support/engines.js";
import {
  connected,
  deleteKeys,
  type Frame,
  newDevice,
  type RunningGateway,
  startGateway,
  type TestClient,
  type TestKeys,
  testKeys,
} from "../support/gateway-harness.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";

/**
 * The fanout plane on the real engines: a real IngestService (dynalite + Kafka) behind real gateways (WebSocket
 * servers on port 0, routing in Redis under a key prefix of their own), fanout workers consuming Kafka, and
 * WebSocket clients. Every topic has a name of this fixture's own: ingest publishes `messages.persisted`,
 * which `TopicNames` maps onto the fixture's topic so tests on the shared broker never see each other's records.
 */
export const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export class TopicNames implements EventLog {
  constructor(
    private readonly inner: EventLog,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  private name(topic: string): string {
    return this.names.get(topic) ?? topic;
  }

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(topics.map((topic) => ({ ...topic, name: this.name(topic.name) })));
  }

  partitionCount(topic: string): Promise<number> {
    return this.inner.partitionCount(this.name(topic));
  }

  publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    return this.inner.publish(this.name(topic), records);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe({ ...options, topics: options.topics.map((topic) => this.name(topic)) });
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** The inner log belongs to whoever made it. */
  async close(): Promise<void> {}
}

export interface GatewayUnderTest extends RunningGateway {
  readonly node: GatewayNode;
}

export interface FanoutFixtureOptions {
  readonly dynamodb: string;
  /** Kafka brokers; absent: the in-process event log of the embedded mode. */
  readonly kafka?: string;
  /** Redis for routing and liveness; default REDIS_URL. */
  readonly redisUrl: string;
  readonly gateways?: number;
  /** Reach gateways over gRPC (each serves GatewayService on a port of its own), as a cluster does. */
  readonly grpc?: boolean;
}

export class FanoutFixture {
  readonly topics: FanoutTopics = {
    messagesPersisted: uniqueName("fanout-messages-"),
    membershipsChanged: uniqueName("fanout-memberships-"),
    chatsCreated: uniqueName("fanout-chats-"),
    deadLetters: uniqueName("fanout-dead-"),
  };
  readonly groupId = uniqueName("fanout-workers-");
  readonly keyPrefix = `${uniqueName("fanout-routing-")}:`;
  readonly gateways: GatewayUnderTest[] = [];
  private readonly logs: KafkaEventLog[] = [];
  private readonly workers: FanoutWorker[] = [];
  private readonly closers: Array<() => Promise<void> | void> = [];
  ingest!: IngestFixture;
  eventLog!: EventLog;
  redis!: Redis;
  keys!: TestKeys;
  connections!: ConnectionRegistry;
  nodes!: NodeRegistry;

  private constructor(private readonly options: FanoutFixtureOptions) {}

  static async start(options: FanoutFixtureOptions): Promise<FanoutFixture> {
    const fixture = new FanoutFixture(options);
    try {
      await fixture.init();
    } catch (error) {
      await fixture.cleanup();
      throw error;
    }
    return fixture;
  }

  private async init(): Promise<void> {
    this.ingest = await ingestFixture(
      this.options.kafka === undefined
        ? { dynamodb: this.options.dynamodb }
        : { dynamodb: this.options.dynamodb, kafka: this.options.kafka },
    );
    this.eventLog = new TopicNames(
      this.ingest.eventLog,
      new Map([
        [TOPICS.messagesPersisted, this.topics.messagesPersisted],
        [TOPICS.membershipsChanged, this.topics.membershipsChanged],
        [TOPICS.chatsCreated, this.topics.chatsCreated],
        [TOPICS.deadLetters, this.topics.deadLetters],
      ]),
    );
    await this.eventLog.ensureTopics([
      { name: TOPICS.messagesPersisted, partitions: 4 },
      { name: TOPICS.membershipsChanged, partitions: 2 },
      { name: TOPICS.chatsCreated, partitions: 2 },
      { name: TOPICS.deadLetters, partitions: 1 },
    ]);
    this.redis = new Redis(this.options.redisUrl, { maxRetriesPerRequest: 1 });
    this.redis.on("error", () => {});
    this.closers.push(() => this.redis.disconnect());
    const registryOptions = {
      redis: this.options.redisUrl,
      keyPrefix: this.keyPrefix,
      onConnectionError: () => {},
    };
    const connections = new RedisConnectionRegistry(registryOptions);
    const nodes = new RedisNodeRegistry(registryOptions);
    this.closers.push(
      () => connections.close(),
      () => nodes.close(),
    );
    this.connections = connections;
    this.nodes = nodes;
    this.keys = await testKeys(this.ingest.clock);
    const ingestService = this.ingest.runtime({ eventLog: this.eventLog });
    for (let index = 0; index < (this.options.gateways ?? 2); index++) {
      const gatewayId = uniqueName(`gw${index}-`);
      const running = await startGateway({
        clock: this.ingest.clock,
        ids: this.ingest.ids,
        ingest: ingestService,
        keys: this.keys.source,
        redis: this.redis,
        keyPrefix: this.keyPrefix,
        gatewayId,
      });
      let address = `in-process:${gatewayId}`;
      if (this.options.grpc === true) {
        const server = await startGrpcServer({
          host: "127.0.0.1",
          port: 0,
          register: (grpcServer) => addGatewayService(grpcServer, running.gateway.api),
        });
        this.closers.push(() => server.stop(1_000));
        address = `127.0.0.1:${server.port}`;
      }
      const node: GatewayNode = { nodeId: gatewayId, address };
      this.gateways.push({ ...running, node });
      // As a gateway process announces itself (the lead wires this): its routing id is its node id.
      await this.nodes.heartbeat({ ...node, role: "gateway", startedAt: this.ingest.clock.now() }, 600_000);
    }
  }

  /** The GatewayApi of a gateway node: a gRPC client to `node.address`, or the in-process gateway. */
  gatewayApi(node: GatewayNode): GatewayApi {
    if (this.options.grpc === true) {
      const client = new GatewayGrpcClient({ address: node.address });
      this.closers.push(() => client.close());
      return client;
    }
    const gateway = this.gateways.find((candidate) => candidate.node.nodeId === node.nodeId);
    if (gateway === undefined) throw new Error(`no gateway ${node.nodeId}`);
    return gateway.gateway.api;
  }

  /**
   * A worker as a fanout process would run it: its own Kafka client (or the one in-process log when embedded),
   * the fixture's topics and group.
   */
  async startWorker(
    overrides: {
      gatewayFor?: (node: GatewayNode) => GatewayApi;
      connections?: ConnectionRegistry;
      nodes?: NodeRegistry;
      chatStore?: IngestFixture["chatStore"];
      options?: Partial<FanoutOptions>;
      nodeId?: string;
    } = {},
  ): Promise<FanoutWorker> {
    let log: EventLog = this.ingest.eventLog;
    if (this.options.kafka !== undefined) {
      const kafkaLog = new KafkaEventLog({
        brokers: this.options.kafka.split(","),
        clientId: uniqueName("fanout-test-"),
        handlerRetryDelayMs: 100,
        maxWaitTimeMs: 100,
      });
      this.logs.push(kafkaLog);
      log = kafkaLog;
    }
    const worker = await startFanoutWorker({
      eventLog: log,
      chatStore: overrides.chatStore ?? this.ingest.chatStore,
      connections: overrides.connections ?? this.connections,
      nodes: overrides.nodes ?? this.nodes,
      gatewayFor: overrides.gatewayFor ?? ((node) => this.gatewayApi(node)),
      clock: this.ingest.clock,
      logger,
      nodeId: overrides.nodeId ?? uniqueName("fanout-node-"),
      options: { ...FANOUT_DEFAULTS, groupId: this.groupId, topics: this.topics, ...overrides.options },
    });
    this.workers.push(worker);
    return worker;
  }

  /** A WebSocket client of `userId` connected to a gateway, once its connection is registered. */
  async open(userId: UserId, gateway: GatewayUnderTest): Promise<TestClient> {
    const token = await this.keys.token(userId, this.ingest.clock.now());
    const { client } = await connected(gateway.url, { token, deviceId: newDevice() });
    return client;
  }

  /** The connection id a gateway gave a client (from its `connection_established`). */
  connectionIdOf(client: TestClient): ConnectionId {
    const established = client.frames.find((frame) => frame.type === "connection_established");
    return established?.payload.connection_id as ConnectionId;
  }

  /** Sends a text message over the WebSocket and returns its `send_message_ack`. */
  async send(client: TestClient, chatId: ChatId, content: string): Promise<Frame> {
    const requestId = randomUUID();
    client.send({
      type: "send_message",
      request_id: requestId,
      payload: { client_message_id: randomUUID(), chat_id: chatId, content },
    });
    const ack = await client.reply(requestId);
    if (ack.type !== "send_message_ack") throw new Error(`send failed: ${JSON.stringify(ack.payload)}`);
    return ack;
  }

  /** Every record of a topic of this fixture (from the beginning), once at least `count` arrived. */
  async readTopic(topic: string, count: number): Promise<ConsumedRecord[]> {
    const records: ConsumedRecord[] = [];
    const subscription = await this.eventLog.subscribe({
      groupId: uniqueName("fanout-reader-"),
      topics: [topic],
      fromBeginning: true,
      handle: async (batch) => {
        records.push(...batch.records);
      },
    });
    try {
      await waitFor(() => records.length >= count, {
        what: `${count} records on ${topic}`,
        timeoutMs: 20_000,
      });
    } finally {
      await subscription.stop();
    }
    return records;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.stop({ abandon: true })));
    await Promise.allSettled(this.logs.map((log) => log.close()));
    for (const gateway of this.gateways) await gateway.close().catch(() => {});
    await deleteKeys(this.redis, this.keyPrefix).catch(() => {});
    for (const close of this.closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => {});
    await this.ingest?.cleanup();
  }
}

/** The `message` frames of a chat a client received, as their sequences. */
export const pushedSequences = (client: TestClient, chatId: ChatId): number[] =>
  client
    .ofType("message")
    .filter((frame) => frame.payload.chat_id === chatId)
    .map((frame) => Number(frame.payload.sequence));

export const eventTypeOf = (record: ConsumedRecord): string => decodeEnvelope(record.value).event_type;

/**
 * Waits until everything a gateway queued for this client before now has arrived: a heartbeat's ack leaves
 * the same socket after every frame queued ahead of it.
 */
export async function fence(client: TestClient): Promise<void> {
  const requestId = randomUUID();
  client.send({ type: "heartbeat", request_id: requestId, payload: {} });
  await client.reply(requestId);
}
