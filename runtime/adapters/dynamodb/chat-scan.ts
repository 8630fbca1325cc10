import { type AttributeValue, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { dynamoRequest } from "./client.js";
import { tableName } from "./tables.js";

/**
 * Up to `limit` chat ids from a paged Scan of `chats` (keys only), for operators' placement plans. A Scan
 * reads the whole table, so it serves previews, never a request path.
 */
export async function scanChatIds(
  client: DynamoDBClient,
  tablePrefix: string,
  limit: number,
): Promise<{ ids: string[]; complete: boolean }> {
  const table = tableName(tablePrefix, "chats");
  const ids: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoRequest(`Scan ${table}`, () =>
      client.send(
        new ScanCommand({
          TableName: table,
          ProjectionExpression: "chat_id",
          Limit: Math.min(1000, limit - ids.length),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      ),
    );
    for (const item of page.Items ?? []) {
      const id = item.chat_id?.S;
      if (id !== undefined) ids.push(id);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined && ids.length < limit);
  return { ids, complete: start === undefined };
}
