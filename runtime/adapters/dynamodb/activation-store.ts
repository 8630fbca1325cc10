import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { ChatId } from "../../ids.js";
import type { ActivationMarker, ActivationPage, ActivationStore } from "../../ports/activation-store.js";
import { conditionalWrite, dynamoRequest } from "./client.js";
import { num, readNumber, readString, str } from "./item-codec.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/** Activation markers as items of `actor_activations`, one per chat with an active sequencer somewhere. */
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
            chat_id: str(marker.chatId),
            node_id: str(marker.nodeId),
            incarnation: str(marker.incarnation),
            activated_at: num(marker.activatedAt),
          },
        }),
      ),
    );
  }

  async release(chatId: ChatId, holder: { nodeId: string; incarnation: string }): Promise<boolean> {
    const deleted = await conditionalWrite(`DeleteItem ${this.table}`, () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { chat_id: str(chatId) },
          ConditionExpression: "node_id = :node AND incarnation = :incarnation",
          ExpressionAttributeValues: { ":node": str(holder.nodeId), ":incarnation": str(holder.incarnation) },
        }),
      ),
    );
    return deleted !== undefined;
  }

  async scan(page: { limit: number; after?: string }): Promise<ActivationPage> {
    // A Scan returns items in hash order, not chat id order; the cursor is the last key DynamoDB evaluated.
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
        chatId: readString(item, "chat_id") as ChatId,
        nodeId: readString(item, "node_id"),
        incarnation: readString(item, "incarnation"),
        activatedAt: readNumber(item, "activated_at"),
      }),
    );
    const next = output.LastEvaluatedKey?.chat_id?.S;
    return next === undefined ? { items } : { items, next };
  }
}
