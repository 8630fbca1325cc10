import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import {
  REQUEST_STATES,
  type RequestIdempotencyRecord,
  type RequestIdempotencyStore,
} from "../../ports/request-idempotency-store.js";
import { isInForce } from "../store-arguments.js";
import { conditionalWrite } from "./client.js";
import {
  attributeNames,
  type Item,
  num,
  readEnum,
  readNumber,
  readOptionalNumber,
  readString,
  str,
} from "./item-codec.js";
import { getItem } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/** REST idempotency keys on DynamoDB: a claim is a put conditioned on no unexpired record (D12). */
export class DynamoRequestIdempotencyStore implements RequestIdempotencyStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.table = tableName(options.tablePrefix, "request_idempotency");
  }

  async claim(record: RequestIdempotencyRecord): Promise<RequestIdempotencyRecord | undefined> {
    const now = this.clock.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const condition = "attribute_not_exists(#scope_key) OR #expires_at < :now";
      const command = new PutItemCommand({
        TableName: this.table,
        Item: encodeRecord(record),
        ConditionExpression: condition,
        ExpressionAttributeNames: attributeNames(condition),
        ExpressionAttributeValues: { ":now": num(now) },
      });
      if ((await conditionalWrite(`PutItem ${this.table}`, () => this.client.send(command))) !== undefined) {
        return undefined;
      }
      const item = await getItem(this.client, this.table, { scope_key: str(record.scopeKey) }, true);
      if (item !== undefined) {
        const stored = decodeRecord(item);
        if (isInForce(stored, now)) return stored;
      }
      // The holder expired or vanished between our put and our read: try the claim again.
    }
    throw new Error(`idempotency key ${record.scopeKey} could not be claimed`);
  }

  async complete(scopeKey: string, responseStatus: number): Promise<void> {
    const update = "SET #state = :done, #response_status = :status";
    const condition = "attribute_exists(#scope_key)";
    const command = new UpdateItemCommand({
      TableName: this.table,
      Key: { scope_key: str(scopeKey) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: { ":done": str("done"), ":status": num(responseStatus) },
    });
    await conditionalWrite(`UpdateItem ${this.table}`, () => this.client.send(command));
  }
}

function encodeRecord(record: RequestIdempotencyRecord): Item {
  return {
    scope_key: str(record.scopeKey),
    request_hash: str(record.requestHash),
    state: str(record.state),
    resource_ids: str(JSON.stringify(record.resourceIds)),
    ...(record.responseStatus === undefined ? {} : { response_status: num(record.responseStatus) }),
    created_at: num(record.createdAt),
    expires_at: num(record.expiresAt),
    ttl: num(Math.ceil(record.expiresAt / 1000)),
  };
}

function decodeRecord(item: Item): RequestIdempotencyRecord {
  const responseStatus = readOptionalNumber(item, "response_status");
  const ids: unknown = JSON.parse(readString(item, "resource_ids"));
  return {
    scopeKey: readString(item, "scope_key"),
    requestHash: readString(item, "request_hash"),
    state: readEnum(item, "state", REQUEST_STATES),
    resourceIds: typeof ids === "object" && ids !== null ? (ids as Record<string, string>) : {},
    ...(responseStatus === undefined ? {} : { responseStatus }),
    createdAt: readNumber(item, "created_at"),
    expiresAt: readNumber(item, "expires_at"),
  };
}
