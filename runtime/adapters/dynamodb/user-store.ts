import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import type { UserId } from "../../ids.js";
import { phoneSentinelKey, type UserRecord, type UserStore } from "../../ports/user-store.js";
import { conditionalWrite } from "./client.js";
import {
  attributeNames,
  type Item,
  num,
  readNumber,
  readOptionalString,
  readString,
  str,
} from "./item-codec.js";
import { batchGetItems, getItem } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/**
 * Users on DynamoDB. Phone ownership is the sentinel item `PHONE#<hash>` (D15) read with GetItem, strongly
 * consistent, instead of the eventually consistent `phone_number-index`.
 */
export class DynamoUserStore implements UserStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.table = tableName(options.tablePrefix, "users");
  }

  async createUser(user: UserRecord): Promise<boolean> {
    return this.putIfAbsent({
      user_id: str(user.userId),
      phone_number: str(user.phoneNumber),
      phone_verified: { BOOL: true },
      ...(user.displayName === null ? {} : { display_name: str(user.displayName) }),
      created_at: num(user.createdAt),
      updated_at: num(user.updatedAt),
    });
  }

  async claimPhone(phoneNumber: string, userId: UserId): Promise<{ userId: UserId; claimed: boolean }> {
    const claimed = await this.putIfAbsent({
      user_id: str(phoneSentinelKey(phoneNumber)),
      phone_number: str(phoneNumber),
      canonical_user_id: str(userId),
      created_at: num(this.clock.now()),
    });
    if (claimed) return { userId, claimed: true };
    const holder = await this.getUserIdByPhone(phoneNumber);
    // Sentinels are never deleted, so a failed claim always finds a holder.
    if (holder === undefined) return this.claimPhone(phoneNumber, userId);
    return { userId: holder, claimed: false };
  }

  async getUserIdByPhone(phoneNumber: string): Promise<UserId | undefined> {
    const item = await getItem(
      this.client,
      this.table,
      { user_id: str(phoneSentinelKey(phoneNumber)) },
      true,
    );
    return item === undefined ? undefined : (readString(item, "canonical_user_id") as UserId);
  }

  async getUserIdsByPhones(phoneNumbers: readonly string[]): Promise<Map<string, UserId>> {
    const unique = [...new Set(phoneNumbers)];
    const items = await batchGetItems(
      this.client,
      this.table,
      unique.map((phone) => ({ user_id: str(phoneSentinelKey(phone)) })),
      true,
    );
    return new Map(
      items.map((item) => [
        readString(item, "phone_number"),
        readString(item, "canonical_user_id") as UserId,
      ]),
    );
  }

  async getUser(userId: UserId): Promise<UserRecord | undefined> {
    const item = await getItem(this.client, this.table, { user_id: str(userId) }, true);
    return item === undefined ? undefined : decodeUser(item);
  }

  async getUsers(userIds: readonly UserId[]): Promise<UserRecord[]> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return [];
    const items = await batchGetItems(
      this.client,
      this.table,
      unique.map((userId) => ({ user_id: str(userId) })),
      false,
    );
    return items.map(decodeUser);
  }

  async setDisplayName(userId: UserId, displayName: string): Promise<UserRecord | undefined> {
    const update = "SET #display_name = :name, #updated_at = :now";
    // `phone_number` exists on users and sentinels alike; `canonical_user_id` only on sentinels.
    const condition = "attribute_exists(#phone_number) AND attribute_not_exists(#canonical_user_id)";
    const command = new UpdateItemCommand({
      TableName: this.table,
      Key: { user_id: str(userId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: { ":name": str(displayName), ":now": num(this.clock.now()) },
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite(`UpdateItem ${this.table}`, () => this.client.send(command));
    return output?.Attributes === undefined ? undefined : decodeUser(output.Attributes);
  }

  private async putIfAbsent(item: Item): Promise<boolean> {
    const condition = "attribute_not_exists(#user_id)";
    const command = new PutItemCommand({
      TableName: this.table,
      Item: item,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
    });
    return (await conditionalWrite(`PutItem ${this.table}`, () => this.client.send(command))) !== undefined;
  }
}

function decodeUser(item: Item): UserRecord {
  return {
    userId: readString(item, "user_id") as UserId,
    phoneNumber: readString(item, "phone_number"),
    displayName: readOptionalString(item, "display_name") ?? null,
    createdAt: readNumber(item, "created_at"),
    updatedAt: readNumber(item, "updated_at"),
  };
}
