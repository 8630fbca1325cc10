import { describe } from "vitest";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoRingStore } from "../../runtime/adapters/dynamodb/ring-store.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { MemoryRingStore } from "../../runtime/adapters/memory/ring-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { describeRingStoreContract } from "./ring-store.contract.js";

/** The ring configuration store, in memory and on DynamoDB (dynalite). */
describeRingStoreContract("memory", async () => {
  const clock = new ManualClock();
  return { store: new MemoryRingStore(clock), clock, cleanup: async () => {} };
});

const endpoint = engineEndpoint("dynamodb");

describe.skipIf(!endpoint)("DynamoDB", () => {
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
