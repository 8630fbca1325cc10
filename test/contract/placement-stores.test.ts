import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoActivationStore } from "../../runtime/adapters/dynamodb/activation-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoRingStore } from "../../runtime/adapters/dynamodb/ring-store.js";
import { deleteTables, ensureTables, tableName } from "../../runtime/adapters/dynamodb/tables.js";
import { MemoryActivationStore } from "../../runtime/adapters/memory/activation-store.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import { ManualClock } from "../../runtime/clock.js";
import type { ChatId } from "../../runtime/ids.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { describeActivationStoreContract } from "./activation-store.contract.js";
import { describeRingStoreContract } from "./ring-store.contract.js";

/** The placement stores (ring configuration, activation markers), in memory and on DynamoDB (dynalite). */
describeActivationStoreContract("memory", async () => ({
  store: new MemoryActivationStore(),
  cleanup: async () => {},
}));

describeRingStoreContract("memory", async () => {
  const clock = new ManualClock();
  return { store: new MemoryRingStore(clock), clock, cleanup: async () => {} };
});

const endpoint = engineEndpoint("dynamodb");

describe.skipIf(!endpoint)("DynamoDB", () => {
  describeActivationStoreContract("dynamodb", async () => {
    const client = createDynamoClient({ endpoint: endpoint ?? "", region: "us-east-1" });
    const tablePrefix = uniqueName("activations_");
    await ensureTables(client, tablePrefix);
    return {
      store: new DynamoActivationStore({ client, tablePrefix }),
      cleanup: async () => {
        await deleteTables(client, tablePrefix);
        client.destroy();
      },
    };
  });

  it("a marker written before markers had a holder each (keyed by the bare chat id) is listed and evicted", async () => {
    const client = createDynamoClient({ endpoint: endpoint ?? "", region: "us-east-1" });
    const tablePrefix = uniqueName("activations_");
    await ensureTables(client, tablePrefix);
    try {
      const store = new DynamoActivationStore({ client, tablePrefix });
      const chatId = "chat_01LEGACYMARKER0000000000" as ChatId;
      await client.send(
        new PutItemCommand({
          TableName: tableName(tablePrefix, "actor_activations"),
          Item: {
            chat_id: { S: chatId },
            node_id: { S: "node-old" },
            incarnation: { S: "1-aa" },
            activated_at: { N: "1000" },
          },
        }),
      );
      const marker = { chatId, nodeId: "node-old", incarnation: "1-aa", activatedAt: 1_000 };
      expect((await store.scan({ limit: 100 })).items).toEqual([marker]);
      expect(await store.evict({ ...marker, activatedAt: 999 })).toBe(false);
      expect(await store.evict(marker)).toBe(true);
      expect((await store.scan({ limit: 100 })).items).toEqual([]);
    } finally {
      await deleteTables(client, tablePrefix);
      client.destroy();
    }
  });

  describeRingStoreContract("dynamodb", async () => {
    const client = createDynamoClient({ endpoint: endpoint ?? "", region: "us-east-1" });
    const tablePrefix = uniqueName("ring_");
    await ensureTables(client, tablePrefix);
    const clock = new ManualClock();
    return {
      store: new DynamoRingStore({ client, tablePrefix, clock }),
      clock,
      cleanup: async () => {
        await deleteTables(client, tablePrefix);
        client.destroy();
      },
    };
  });
});
