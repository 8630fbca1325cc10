import {
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { AppError } from "../../errors.js";
import { dynamoRequest } from "./client.js";
import type { Item } from "./item-codec.js";

/** The two reads of the stores. Whether a read is strongly consistent is each caller's explicit choice. */
export async function getItem(
  client: DynamoDBClient,
  table: string,
  key: Item,
  consistent: boolean,
): Promise<Item | undefined> {
  const output = await dynamoRequest(`GetItem ${table}`, () =>
    client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: consistent })),
  );
  return output.Item;
}

/** BatchGetItem takes at most this many keys per request. */
const BATCH_GET_LIMIT = 100;
/** Rounds of re-asking for UnprocessedKeys (throttling) before the read counts as unavailable. */
const MAX_UNPROCESSED_ROUNDS = 5;

/**
 * The items of many keys of one table, 100 keys per BatchGetItem, re-asking for the keys DynamoDB left
 * unprocessed (it may under load); missing items are simply absent from the result.
 */
export async function batchGetItems(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  consistent: boolean,
): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending: Item[] = keys.slice(start, start + BATCH_GET_LIMIT);
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_UNPROCESSED_ROUNDS) {
        throw new AppError("SERVICE_UNAVAILABLE", "storage is busy", { details: { unprocessed: table } });
      }
      const request = { [table]: { Keys: pending, ConsistentRead: consistent } };
      const output = await dynamoRequest(`BatchGetItem ${table}`, () =>
        client.send(new BatchGetItemCommand({ RequestItems: request })),
      );
      found.push(...(output.Responses?.[table] ?? []));
      pending = output.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}

/**
 * The items of a Query, following `LastEvaluatedKey` until `limit` items are in hand or the key range is
 * exhausted: one response stops at 1 MB whatever `Limit` says, so a single call could return a short page
 * in the middle of a range.
 */
export async function queryItems(
  client: DynamoDBClient,
  operation: string,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey = input.ExclusiveStartKey;
  do {
    const remaining = limit - items.length;
    const output = await dynamoRequest(operation, () =>
      client.send(
        new QueryCommand({
          ...input,
          ...(Number.isFinite(remaining) ? { Limit: remaining } : {}),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      ),
    );
    items.push(...(output.Items ?? []));
    startKey = output.LastEvaluatedKey;
  } while (startKey !== undefined && items.length < limit);
  return items;
}
