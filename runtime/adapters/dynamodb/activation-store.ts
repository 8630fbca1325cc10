import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { ChatId } from "../../ids.js";
import {
  type ActivationHolder,
  type ActivationMarker,
  type ActivationPage,
  type ActivationStore,
  activationKeyOf,
} from "../../ports/activation-store.js";
import { conditionalWrite, dynamoRequest } from "./client.js";
import { type Item, num, readNumber, readString, str } from "./item-codec.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/**
 * The table's one key attribute, `chat_id`, holds `<chat_id>#<node_id>#<incarnation>`: one item per holder of
 * a chat, so no holder's put can replace another's marker, and the table keeps the key schema it always had.
 * Items written before markers had a holder each carry the bare chat id as their key; they are still listed
 * and can be evicted, and nothing writes them any more.
 */
export class DynamoActivationStore implements ActivationStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;

  constructor(options: Pick<DynamoStoreOptions, "client" | "tablePrefix">) {
    this.client = options.client;
    this.table = tableName(options.tablePrefix, "actor_activations");
  }

  async hold(marker: ActivationMarker): Promise<void> {
    await dynamoRequest(`PutItem ${this.table}`, () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            chat_id: str(activationKeyOf(marker.chatId, marker)),
            chat: str(marker.chatId),
            node_id: str(marker.nodeId),
            incarnation: str(marker.incarnation),
            activated_at: num(marker.activatedAt),
          },
        }),
      ),
    );
  }

  async release(chatId: ChatId, holder: ActivationHolder): Promise<boolean> {
    const deleted = await conditionalWrite(`DeleteItem ${this.table}`, () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { chat_id: str(activationKeyOf(chatId, holder)) },
          ConditionExpression: "attribute_exists(chat_id)",
        }),
      ),
    );
    return deleted !== undefined;
  }

  async evict(marker: ActivationMarker): Promise<boolean> {
    const values: Item = {
      ":node": str(marker.nodeId),
      ":incarnation": str(marker.incarnation),
      ":at": num(marker.activatedAt),
    };
    const condition = "node_id = :node AND incarnation = :incarnation AND activated_at = :at";
    for (const key of [activationKeyOf(marker.chatId, marker), marker.chatId]) {
      const deleted = await conditionalWrite(`DeleteItem ${this.table}`, () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { chat_id: str(key) },
            ConditionExpression: condition,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      if (deleted !== undefined) return true;
    }
    return false;
  }

  async scan(page: { limit: number; after?: string }): Promise<ActivationPage> {
    // A Scan returns items in hash order, not key order; the cursor is the last key DynamoDB evaluated.
    const output = await dynamoRequest(`Scan ${this.table}`, () =>
      this.client.send(
        new ScanCommand({
          TableName: this.table,
          Limit: page.limit,
          ConsistentRead: true,
          ...(page.after === undefined ? {} : { ExclusiveStartKey: { chat_id: str(page.after) } }),
        }),
      ),
    );
    const items = (output.Items ?? []).map(
      (item): ActivationMarker => ({
        chatId: (item.chat?.S ?? readString(item, "chat_id")) as ChatId,
        nodeId: readString(item, "node_id"),
        incarnation: readString(item, "incarnation"),
        activatedAt: readNumber(item, "activated_at"),
      }),
    );
    const next = output.LastEvaluatedKey?.chat_id?.S;
    return next === undefined ? { items } : { items, next };
  }
}
