import { type DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import { type RateLimitHit, type RateLimitStore, windowOf } from "../../ports/rate-limit-store.js";
import { dynamoRequest } from "./client.js";
import { attributeNames, num, readNumber, str } from "./item-codec.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/** Rate-limit counters on DynamoDB: one atomic `ADD` per hit on the item of the current window. */
export class DynamoRateLimitStore implements RateLimitStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.table = tableName(options.tablePrefix, "rate_limits");
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const window = windowOf(this.clock.now(), windowMs);
    const update = "ADD #hit_count :one SET #expires_at = :reset, #ttl = :ttl";
    const output = await dynamoRequest(`UpdateItem ${this.table}`, () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { limit_key: str(`${key}#${window.index}`) },
          UpdateExpression: update,
          ExpressionAttributeNames: attributeNames(update),
          ExpressionAttributeValues: {
            ":one": num(1),
            ":reset": num(window.resetAt),
            ":ttl": num(Math.ceil(window.resetAt / 1000)),
          },
          ReturnValues: "UPDATED_NEW",
        }),
      ),
    );
    return { count: readNumber(output.Attributes ?? {}, "hit_count"), resetAt: window.resetAt };
  }
}
