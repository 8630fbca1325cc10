import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";

/** What every DynamoDB store is built from. */
export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  /** Prepended to every table name (see tables.ts), to keep environments and test suites apart. */
  readonly tablePrefix: string;
  /** `:now` of D12's expiry conditions and every `updated_at` come from here (D14). */
  readonly clock: Pick<Clock, "now">;
}
