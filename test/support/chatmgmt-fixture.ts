import { generateKeyPairSync, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ChatManagement, createChatManagement } from "../../chatmgmt/create-chat-management.js";
import { dynamoChatManagementStores } from "../../chatmgmt/stores.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { KafkaEventLog } from "../../runtime/adapters/kafka/event-log.js";
import { InProcessEventLog } from "../../runtime/adapters/memory/event-log.js";
import { ManualClock } from "../../runtime/clock.js";
import { type Config, loadConfig } from "../../runtime/config.js";
import { decodeEnvelope, type EventEnvelope } from "../../runtime/events.js";
import type { CloseConnectionsRequest } from "../../runtime/gateway-api.js";
import { createHttpServer, type HttpServer } from "../../runtime/http/server.js";
import { IdFactory } from "../../runtime/ids.js";
import { createLogger, type Logger } from "../../runtime/logger.js";
import type { EventLog, Subscription } from "../../runtime/ports/event-log.js";
import { TOPICS } from "../../runtime/topics.js";
import { engineEndpoint, uniqueName } from "./engines.js";
import { waitFor } from "./wait-for.js";

/** One RSA key for a whole test file: generating RSA-2048 costs ~100 ms of CPU per key. */
let sharedPem: string | undefined;
export const testSigningKeyPem = (): string => {
  sharedPem ??= generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ format: "pem", type: "pkcs8" })
    .toString();
  return sharedPem;
};

export interface ChatMgmtFixture {
  readonly baseUrl: string;
  readonly clock: ManualClock;
  readonly ids: IdFactory;
  readonly config: Config;
  readonly management: ChatManagement;
  readonly stores: ReturnType<typeof dynamoChatManagementStores> & {
    chatStore: DynamoChatStore;
    messageStore: DynamoMessageStore;
  };
  readonly closed: CloseConnectionsRequest[];
  /** Lifecycle events seen on `chats.created` and `memberships.changed` since start. */
  readonly events: EventEnvelope[];
  /**
   * Resolves once every lifecycle record raised so far with `key` on `topic` has reached `events`: after chat
   * management has published all it raised, a marker record of the same key (the same partition, so behind
   * them) is published and waited for. A test can then assert that nothing more arrived, without sleeping.
   */
  settled(topic: string, key: string): Promise<void>;
  close(): Promise<void>;
}

export const dynamoEndpoint = engineEndpoint("dynamodb");

/** The header of the fixture's own marker records (ChatMgmtFixture.settled). */
const MARKER_HEADER = "x-test-marker";

/**
 * Chat management on real dynalite tables of its own (unique prefix), served by the platform's HTTP server
 * on port 0; the event log is real Kafka when `kafka` is asked and KAFKA_BROKERS is set, else in-process.
 */
export async function chatMgmtFixture(
  options: {
    readonly env?: Record<string, string>;
    readonly kafka?: boolean;
    /** False: the lifecycle topics are not created, so every publication fails (in-process log only). */
    readonly topics?: boolean;
    readonly logger?: Logger;
  } = {},
): Promise<ChatMgmtFixture> {
  // Every test client comes from 127.0.0.1: the per-IP limits get their own tests with their own fixtures.
  const clock = new ManualClock(Date.now());
  const ids = new IdFactory(clock);
  const logger = options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const config = loadConfig({
    env: {
      DEV_MODE: "true",
      OTP_PEPPER: "test-pepper-0123456789",
      OTP_REQUESTS_PER_IP: "100000",
      OTP_VERIFIES_PER_IP: "100000",
      REST_UNAUTHENTICATED_PER_MINUTE: "100000",
      ...options.env,
    },
  });
  const client = createDynamoClient({ endpoint: dynamoEndpoint ?? "", region: "us-east-1" });
  const tablePrefix = uniqueName("cm_");
  await ensureTables(client, tablePrefix);
  const storeOptions = { client, tablePrefix, clock };
  const kafka = options.kafka === true ? engineEndpoint("kafka") : undefined;
  const eventLog: EventLog =
    kafka === undefined
      ? new InProcessEventLog({ clock })
      : new KafkaEventLog({ brokers: kafka.split(","), clientId: uniqueName("cm-test-") });
  const events: EventEnvelope[] = [];
  /** Markers of `settled`, by id, once consumed; they are not lifecycle events and stay out of `events`. */
  const markers = new Set<string>();
  let subscription: Subscription | undefined;
  if (options.topics !== false) {
    await eventLog.ensureTopics([
      { name: TOPICS.chatsCreated, partitions: 4 },
      { name: TOPICS.membershipsChanged, partitions: 4 },
    ]);
    subscription = await eventLog.subscribe({
      groupId: uniqueName("cm-collector-"),
      topics: [TOPICS.chatsCreated, TOPICS.membershipsChanged],
      fromBeginning: kafka === undefined,
      handle: async (batch) => {
        for (const record of batch.records) {
          const marker = record.headers?.[MARKER_HEADER];
          if (marker !== undefined) markers.add(marker);
          else events.push(decodeEnvelope(record.value));
        }
      },
    });
  }
  const stores = {
    ...dynamoChatManagementStores(storeOptions),
    chatStore: new DynamoChatStore(storeOptions),
    messageStore: new DynamoMessageStore(storeOptions),
  };
  const closed: CloseConnectionsRequest[] = [];
  const management = await createChatManagement({
    config,
    logger,
    clock,
    ids,
    eventLog,
    ...stores,
    closeConnections: async (request) => {
      closed.push(request);
      return 1;
    },
    signingKeyPem: testSigningKeyPem(),
  });
  const http: HttpServer = createHttpServer(logger);
  http.addRoute(management.route);
  const address: AddressInfo = await http.listen(0, "127.0.0.1");
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    clock,
    ids,
    config,
    management,
    stores,
    closed,
    events,
    settled: async (topic, key) => {
      await management.published();
      const id = randomUUID();
      await eventLog.publish(topic, [{ key, value: new Uint8Array(), headers: { [MARKER_HEADER]: id } }]);
      await waitFor(() => markers.has(id), { what: `the marker behind ${key}'s records on ${topic}` });
    },
    close: async () => {
      await http.close(1000);
      await management.close();
      await subscription?.stop();
      await eventLog.close();
      await deleteTables(client, tablePrefix);
      client.destroy();
    },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  readonly body: any;
}

/** A small REST client for tests. */
export function apiClient(baseUrl: string) {
  return async function call(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === "" ? undefined : JSON.parse(text),
    };
  };
}

let phoneSeq = 0;
/** A phone number unique within this test process. */
export const newPhone = (): string =>
  `+1${String(200 + (process.pid % 700)).padStart(3, "0")}${String(Date.now() % 10000).padStart(4, "0")}${String(++phoneSeq).padStart(3, "0")}`;

export interface LoggedIn {
  readonly userId: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly deviceId: string;
  readonly phone: string;
}

/** request-otp → dev/otp → verify-otp, like the browser demo does. */
export async function login(
  call: ReturnType<typeof apiClient>,
  phone = newPhone(),
  deviceId = "device-1",
): Promise<LoggedIn> {
  const requested = await call("POST", "/api/v1/auth/request-otp", {
    body: { phone_number: phone },
    headers: { "x-forwarded-for": phone },
  });
  if (requested.status !== 200) throw new Error(`request-otp: ${JSON.stringify(requested.body)}`);
  const code = await call("GET", `/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`);
  const verified = await call("POST", "/api/v1/auth/verify-otp", {
    body: { phone_number: phone, otp: code.body.data.otp, device_id: deviceId },
    headers: { "x-device-id": deviceId },
  });
  if (verified.status !== 200 && verified.status !== 201) {
    throw new Error(`verify-otp: ${JSON.stringify(verified.body)}`);
  }
  const data = verified.body.data;
  return {
    userId: data.user.user_id,
    sessionId: data.session.session_id,
    accessToken: data.tokens.access_token,
    refreshToken: data.tokens.refresh_token,
    deviceId,
    phone,
  };
}
