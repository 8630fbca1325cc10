import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
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
