import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import type { SessionId, UserId } from "../../ids.js";
import {
  MAX_PREVIOUS_TOKEN_HASHES,
  type SessionRecord,
  type SessionStore,
} from "../../ports/session-store.js";
import { isInForce } from "../store-arguments.js";
import { conditionalWrite, dynamoRequest } from "./client.js";
import { attributeNames, type Item, num, readNumber, readString, str } from "./item-codec.js";
import { getItem, queryItems } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

const USER_SESSIONS_INDEX = "user_sessions-index";

/** Sessions on DynamoDB: every change is one conditional write; expired sessions are ignored (D12). */
export class DynamoSessionStore implements SessionStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.table = tableName(options.tablePrefix, "sessions");
  }

  async createSession(session: SessionRecord): Promise<boolean> {
    const condition = "attribute_not_exists(#session_id)";
    const command = new PutItemCommand({
      TableName: this.table,
      Item: encodeSession(session),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
    });
    return (await conditionalWrite(`PutItem ${this.table}`, () => this.client.send(command))) !== undefined;
  }

  async getSession(sessionId: SessionId): Promise<SessionRecord | undefined> {
    const item = await getItem(this.client, this.table, { session_id: str(sessionId) }, true);
    if (item === undefined) return undefined;
    const session = decodeSession(item);
    return isInForce(session, this.clock.now()) ? session : undefined;
  }

  async listSessionsOfUser(userId: UserId): Promise<SessionRecord[]> {
    const keyCondition = "#user_id = :user";
    const items = await queryItems(this.client, `Query ${this.table} ${USER_SESSIONS_INDEX}`, {
      TableName: this.table,
      IndexName: USER_SESSIONS_INDEX,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: attributeNames(keyCondition),
      ExpressionAttributeValues: { ":user": str(userId) },
    });
    const now = this.clock.now();
    return items
      .map(decodeSession)
      .filter((session) => isInForce(session, now))
      .sort((a, b) => a.createdAt - b.createdAt || (a.sessionId < b.sessionId ? -1 : 1));
  }

  async rotateRefreshToken(current: SessionRecord, newHash: string): Promise<SessionRecord | undefined> {
    const update =
      "SET #refresh_token_hash = :new, #prev_token_hashes = :previous, #token_generation = #token_generation + :one, #last_active_at = :now";
    const condition = "#refresh_token_hash = :old AND #expires_at >= :now";
    const previous = [current.refreshTokenHash, ...current.previousTokenHashes].slice(
      0,
      MAX_PREVIOUS_TOKEN_HASHES,
    );
    const command = new UpdateItemCommand({
      TableName: this.table,
      Key: { session_id: str(current.sessionId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: {
        ":new": str(newHash),
        ":old": str(current.refreshTokenHash),
        ":previous": { L: previous.map(str) },
        ":one": num(1),
        ":now": num(this.clock.now()),
      },
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite(`UpdateItem ${this.table}`, () => this.client.send(command));
    return output?.Attributes === undefined ? undefined : decodeSession(output.Attributes);
  }

  async touchSession(sessionId: SessionId, at: number): Promise<void> {
    const update = "SET #last_active_at = :at";
    const condition = "attribute_exists(#session_id) AND #last_active_at < :at";
    const command = new UpdateItemCommand({
      TableName: this.table,
      Key: { session_id: str(sessionId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: { ":at": num(at) },
    });
    await conditionalWrite(`UpdateItem ${this.table}`, () => this.client.send(command));
  }

  async deleteSession(sessionId: SessionId): Promise<SessionRecord | undefined> {
    const output = await dynamoRequest(`DeleteItem ${this.table}`, () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { session_id: str(sessionId) },
          ReturnValues: "ALL_OLD",
        }),
      ),
    );
    return output.Attributes === undefined ? undefined : decodeSession(output.Attributes);
  }
}

function encodeSession(session: SessionRecord): Item {
  return {
    session_id: str(session.sessionId),
    user_id: str(session.userId),
    device_id: str(session.deviceId),
    refresh_token_hash: str(session.refreshTokenHash),
    prev_token_hashes: { L: session.previousTokenHashes.map(str) },
    token_family: str(session.tokenFamily),
    token_generation: num(session.tokenGeneration),
    created_at: num(session.createdAt),
    last_active_at: num(session.lastActiveAt),
    expires_at: num(session.expiresAt),
    ttl: num(Math.ceil(session.expiresAt / 1000)),
  };
}

function decodeSession(item: Item): SessionRecord {
  return {
    sessionId: readString(item, "session_id") as SessionId,
    userId: readString(item, "user_id") as UserId,
    deviceId: readString(item, "device_id"),
    refreshTokenHash: readString(item, "refresh_token_hash"),
    previousTokenHashes: (item.prev_token_hashes?.L ?? []).flatMap((value) =>
      value.S === undefined ? [] : [value.S],
    ),
    tokenFamily: readString(item, "token_family"),
    tokenGeneration: readNumber(item, "token_generation"),
    createdAt: readNumber(item, "created_at"),
    lastActiveAt: readNumber(item, "last_active_at"),
    expiresAt: readNumber(item, "expires_at"),
  };
}
