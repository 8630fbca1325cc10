import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/free-port.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import type { DynaliteServer } from "../../runtime/adapters/dynamodb/dynalite-server.js";
import { startDynaliteWorker } from "../../runtime/adapters/dynamodb/dynalite-worker.js";
import { DynamoMessageStore } from "../../runtime/adapters/dynamodb/message-store.js";
import type { DynamoStoreOptions } from "../../runtime/adapters/dynamodb/store-options.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { MemoryChatStore } from "../../runtime/adapters/memory/chat-store.js";
import { MemoryMessageStore } from "../../runtime/adapters/memory/message-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import { IdFactory, toSequence } from "../../runtime/ids.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { describeChatStoreContract } from "./chat-store.contract.js";
import { describeMessageStoreContract } from "./message-store.contract.js";

/** The storage ports' contract suites, run against every adapter: in memory and on DynamoDB (dynalite). */
const REGION = "us-east-1";
const noCleanup = async () => {};

describeMessageStoreContract("memory", async () => {
  const clock = new ManualClock();
  return { store: new MemoryMessageStore({ clock }), clock, cleanup: noCleanup };
});
describeChatStoreContract("memory", async () => {
  const clock = new ManualClock();
  return { store: new MemoryChatStore({ clock }), clock, cleanup: noCleanup };
});

const endpoint = engineEndpoint("dynamodb");

/** Each suite gets tables of its own under a fresh prefix, dropped afterwards. */
async function dynamoFixture<S>(build: (options: DynamoStoreOptions) => S) {
  const client = createDynamoClient({ endpoint: endpoint ?? "", region: REGION });
  const tablePrefix = uniqueName("contract_");
  await ensureTables(client, tablePrefix);
  const clock = new ManualClock();
  return {
    store: build({ client, tablePrefix, clock }),
    clock,
    cleanup: async () => {
      await deleteTables(client, tablePrefix);
      client.destroy();
    },
  };
}

/**
 * The same suites through a dynalite thread of this process, which the client reaches without HTTP
 * (in-process-dynalite.ts): the embedded platform's path must answer exactly as the HTTP one does.
 */
let inProcess: Promise<DynaliteServer> | undefined;
const inProcessEndpoint = async () => {
  inProcess ??= startDynaliteWorker({ progress: () => {} });
  return (await inProcess).endpoint;
};
afterAll(async () => {
  await (await inProcess)?.stop();
});

async function inProcessFixture<S>(build: (options: DynamoStoreOptions) => S) {
  const client = createDynamoClient({ endpoint: await inProcessEndpoint(), region: REGION });
  const tablePrefix = uniqueName("contract_");
  await ensureTables(client, tablePrefix);
  const clock = new ManualClock();
  return {
    store: build({ client, tablePrefix, clock }),
    clock,
    cleanup: async () => {
      await deleteTables(client, tablePrefix);
      client.destroy();
    },
  };
}

describe("DynamoDB adapters on a dynalite thread of this process (no HTTP)", () => {
  describeMessageStoreContract("dynamodb in process", () =>
    inProcessFixture((options) => new DynamoMessageStore(options)),
  );
  describeChatStoreContract("dynamodb in process", () =>
    inProcessFixture((options) => new DynamoChatStore(options)),
  );
});

describe.skipIf(!endpoint)("DynamoDB adapters", () => {
  describeMessageStoreContract("dynamodb", () => dynamoFixture((options) => new DynamoMessageStore(options)));
  describeChatStoreContract("dynamodb", () => dynamoFixture((options) => new DynamoChatStore(options)));

  describe("failures", () => {
    let client: ReturnType<typeof createDynamoClient>;
    beforeAll(() => {
      client = createDynamoClient({ endpoint: endpoint ?? "", region: REGION });
    });
    afterAll(() => client.destroy());

    it("a store whose tables are missing fails with a non-public INTERNAL_ERROR keeping the cause", async () => {
      const store = new DynamoMessageStore({
        client,
        tablePrefix: uniqueName("missing_"),
        clock: new ManualClock(),
      });
      const failure = await store
        .getCounters(new IdFactory(new ManualClock()).chat())
        .catch((error) => error);
      expect(failure).toBeInstanceOf(AppError);
      expect(failure).toMatchObject({ code: "INTERNAL_ERROR", public: false });
      expect((failure as AppError).cause).toMatchObject({ name: "ResourceNotFoundException" });
    });
  });
});

describe("DynamoDB adapters on an unreachable endpoint", () => {
  let port: number;
  beforeAll(async () => {
    port = await freePort();
  });

  it("every store call fails with a retryable SERVICE_UNAVAILABLE keeping the network cause", async () => {
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, region: REGION });
    try {
      const clock = new ManualClock();
      const ids = new IdFactory(clock);
      const messages = new DynamoMessageStore({ client, tablePrefix: "down_", clock });
      const chats = new DynamoChatStore({ client, tablePrefix: "down_", clock });
      // Thunks, started one at a time: a rejection must not wait unobserved for its turn.
      const calls: (() => Promise<unknown>)[] = [
        () => messages.getMessage(ids.chat(), toSequence(1)),
        () => messages.advanceDeliveryState(ids.user(), ids.chat(), toSequence(1)),
        () =>
          chats.createChat({
            chatId: ids.chat(),
            chatType: "group",
            name: "x",
            createdBy: ids.user(),
            status: "active",
            memberCount: 1,
            createdAt: 0,
            updatedAt: 0,
          }),
        () => ensureTables(client, "down_"),
      ];
      for (const call of calls) {
        const failure = await call().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(AppError);
        expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
        expect((failure as AppError).cause).toMatchObject({ code: "ECONNREFUSED" });
      }
    } finally {
      client.destroy();
    }
  });
});
