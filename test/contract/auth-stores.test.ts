import { describe } from "vitest";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { DynamoOtpStore } from "../../runtime/adapters/dynamodb/otp-store.js";
import { DynamoRateLimitStore } from "../../runtime/adapters/dynamodb/rate-limit-store.js";
import { DynamoRequestIdempotencyStore } from "../../runtime/adapters/dynamodb/request-idempotency-store.js";
import { DynamoSessionStore } from "../../runtime/adapters/dynamodb/session-store.js";
import type { DynamoStoreOptions } from "../../runtime/adapters/dynamodb/store-options.js";
import { deleteTables, ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { DynamoUserStore } from "../../runtime/adapters/dynamodb/user-store.js";
import { MemoryOtpStore } from "../../runtime/adapters/memory/otp-store.js";
import { MemoryRateLimitStore } from "../../runtime/adapters/memory/rate-limit-store.js";
import { MemoryRequestIdempotencyStore } from "../../runtime/adapters/memory/request-idempotency-store.js";
import { MemorySessionStore } from "../../runtime/adapters/memory/session-store.js";
import { MemoryUserStore } from "../../runtime/adapters/memory/user-store.js";
import { ManualClock } from "../../runtime/clock.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { describeOtpStoreContract } from "./otp-store.contract.js";
import { describeRateLimitStoreContract } from "./rate-limit-store.contract.js";
import { describeRequestIdempotencyStoreContract } from "./request-idempotency-store.contract.js";
import { describeSessionStoreContract } from "./session-store.contract.js";
import { describeUserStoreContract } from "./user-store.contract.js";

/** The chat-management stores' contract suites, run against memory and DynamoDB (dynalite) adapters. */
const memory = <S>(build: (clock: ManualClock) => S) => {
  return async () => {
    const clock = new ManualClock();
    return { store: build(clock), clock, cleanup: async () => {} };
  };
};

describeUserStoreContract(
  "memory",
  memory((clock) => new MemoryUserStore({ clock })),
);
describeSessionStoreContract(
  "memory",
  memory((clock) => new MemorySessionStore({ clock })),
);
describeOtpStoreContract(
  "memory",
  memory(() => new MemoryOtpStore()),
);
describeRequestIdempotencyStoreContract(
  "memory",
  memory((clock) => new MemoryRequestIdempotencyStore({ clock })),
);
describeRateLimitStoreContract(
  "memory",
  memory((clock) => new MemoryRateLimitStore({ clock })),
);

const endpoint = engineEndpoint("dynamodb");

function dynamo<S>(build: (options: DynamoStoreOptions) => S) {
  return async () => {
    const client = createDynamoClient({ endpoint: endpoint ?? "", region: "us-east-1" });
    const tablePrefix = uniqueName("authc_");
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
  };
}

describe.skipIf(!endpoint)("DynamoDB adapters of chat management", () => {
  describeUserStoreContract(
    "dynamodb",
    dynamo((options) => new DynamoUserStore(options)),
  );
  describeSessionStoreContract(
    "dynamodb",
    dynamo((options) => new DynamoSessionStore(options)),
  );
  describeOtpStoreContract(
    "dynamodb",
    dynamo((options) => new DynamoOtpStore(options)),
  );
  describeRequestIdempotencyStoreContract(
    "dynamodb",
    dynamo((options) => new DynamoRequestIdempotencyStore(options)),
  );
  describeRateLimitStoreContract(
    "dynamodb",
    dynamo((options) => new DynamoRateLimitStore(options)),
  );
});
