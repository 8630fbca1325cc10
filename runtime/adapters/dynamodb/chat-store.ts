import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import type { ChatId, UserId } from "../../ids.js";
import {
  type ChatRecord,
  type ChatStatus,
  type ChatStore,
  directPairKey,
  type MemberRole,
  type MembershipRecord,
  type Page,
  type UserChatCounts,
} from "../../ports/chat-store.js";
import { decodePageCursor, encodePageCursor } from "../page-cursor.js";
import { checkPageLimit } from "../store-arguments.js";
import {
  decodeChat,
  decodeDirectChatId,
  decodeMembership,
  encodeChat,
  encodeDirectChat,
  encodeMembership,
} from "./chat-items.js";
import { conditionalWrite } from "./client.js";
import { attributeNames, type Item, num, readNumber, str } from "./item-codec.js";
import { batchGetItems, getItem, queryItems } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

const USER_CHATS_INDEX = "user_chats-index";

/**
 * The chat store on DynamoDB (or dynalite). Every change is one conditional write; the multi-item changes
 * of spec §5 (which used transactions) are sequenced by the callers from these steps (D15). Membership
 * reads are strongly consistent because they authorize; the user's chat list comes from a GSI, which is
 * eventually consistent by nature (spec §1 allows it for `GET /chats`).
 */
export class DynamoChatStore implements ChatStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly chats: string;
  private readonly memberships: string;
  private readonly directChats: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.chats = tableName(options.tablePrefix, "chats");
    this.memberships = tableName(options.tablePrefix, "chat_memberships");
    this.directChats = tableName(options.tablePrefix, "direct_chat_index");
  }

  async createChat(chat: ChatRecord): Promise<boolean> {
    return this.putIfAbsent(this.chats, encodeChat(chat), "chat_id");
  }

  async getChat(
    chatId: ChatId,
    options?: { readonly consistent?: boolean },
  ): Promise<ChatRecord | undefined> {
    const item = await getItem(
      this.client,
      this.chats,
      { chat_id: str(chatId) },
      options?.consistent ?? false,
    );
    return item === undefined ? undefined : decodeChat(item);
  }

  async setChatStatus(chatId: ChatId, from: ChatStatus, to: ChatStatus): Promise<boolean> {
    const output = await this.update(
      this.chats,
      { chat_id: str(chatId) },
      {
        update: "SET #status = :to, #updated_at = :now",
        condition: "#status = :from",
        values: { ":from": str(from), ":to": str(to) },
      },
    );
    return output !== undefined;
  }

  async renameChat(chatId: ChatId, name: string): Promise<boolean> {
    const output = await this.update(
      this.chats,
      { chat_id: str(chatId) },
      {
        update: "SET #name = :name, #updated_at = :now",
        condition: "#chat_type = :group",
        values: { ":name": str(name), ":group": str("group") },
      },
    );
    return output !== undefined;
  }

  /** `count + delta` in [min, max] is checked as `count` in [min - delta, max - delta]: expressions cannot add. */
  async adjustMemberCount(
    chatId: ChatId,
    delta: number,
    bounds: { readonly min: number; readonly max: number },
  ): Promise<number | undefined> {
    const low = bounds.min - delta;
    const high = bounds.max - delta;
    if (low > high) return undefined;
    const output = await this.update(
      this.chats,
      { chat_id: str(chatId) },
      {
        update: "SET #member_count = #member_count + :delta, #updated_at = :now",
        condition: "#member_count BETWEEN :low AND :high",
        values: { ":delta": num(delta), ":low": num(low), ":high": num(high) },
      },
    );
    return output === undefined ? undefined : readNumber(output, "member_count");
  }

  async addMembership(membership: MembershipRecord): Promise<boolean> {
    return this.putIfAbsent(this.memberships, encodeMembership(membership), "user_id");
  }

  async getMembership(chatId: ChatId, userId: UserId): Promise<MembershipRecord | undefined> {
    const item = await getItem(this.client, this.memberships, membershipKey(chatId, userId), true);
    return item === undefined ? undefined : decodeMembership(item);
  }

  async getMemberships(
    keys: ReadonlyArray<{ readonly chatId: ChatId; readonly userId: UserId }>,
  ): Promise<MembershipRecord[]> {
    const unique = [...new Map(keys.map((key) => [`${key.chatId}\u0000${key.userId}`, key])).values()];
    const items = await batchGetItems(
      this.client,
      this.memberships,
      unique.map(({ chatId, userId }) => membershipKey(chatId, userId)),
      true,
    );
    return items.map(decodeMembership);
  }

  /** The owner can never be removed (spec §5: ownership transfer is out of scope, so a chat keeps one). */
  async removeMembership(chatId: ChatId, userId: UserId): Promise<boolean> {
    const condition = "attribute_exists(#user_id) AND #role <> :owner";
    const command = new DeleteItemCommand({
      TableName: this.memberships,
      Key: membershipKey(chatId, userId),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
      ExpressionAttributeValues: { ":owner": str("owner") },
    });
    return (
      (await conditionalWrite(`DeleteItem ${this.memberships}`, () => this.client.send(command))) !==
      undefined
    );
  }

  async setMemberRole(chatId: ChatId, userId: UserId, role: Exclude<MemberRole, "owner">): Promise<boolean> {
    // The type already says so; this guards callers that cast.
    if ((role as MemberRole) === "owner") return false;
    const output = await this.update(this.memberships, membershipKey(chatId, userId), {
      update: "SET #role = :role, #updated_at = :now",
      condition: "#role <> :owner",
      values: { ":role": str(role), ":owner": str("owner") },
    });
    return output !== undefined;
  }

  /** Unmuting removes the attribute: an absent `muted_until` means not muted (chat-items.ts). */
  async setMutedUntil(
    chatId: ChatId,
    userId: UserId,
    mutedUntil: number | undefined,
  ): Promise<MembershipRecord | undefined> {
    const condition = "attribute_exists(#chat_id) AND attribute_exists(#user_id)";
    const update =
      mutedUntil === undefined
        ? "SET #updated_at = :now REMOVE #muted_until"
        : "SET #muted_until = :until, #updated_at = :now";
    const command = new UpdateItemCommand({
      TableName: this.memberships,
      Key: membershipKey(chatId, userId),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: {
        ":now": num(this.clock.now()),
        ...(mutedUntil === undefined ? {} : { ":until": num(mutedUntil) }),
      },
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite(`UpdateItem ${this.memberships}`, () => this.client.send(command));
    return output?.Attributes === undefined ? undefined : decodeMembership(output.Attributes);
  }

  async listMembers(chatId: ChatId): Promise<MembershipRecord[]> {
    const keyCondition = "#chat_id = :chat";
    const items = await queryItems(this.client, `Query ${this.memberships}`, {
      TableName: this.memberships,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: attributeNames(keyCondition),
      ExpressionAttributeValues: { ":chat": str(chatId) },
      ConsistentRead: true,
    });
    return items.map(decodeMembership);
  }

  /**
   * One item more than the page is read, so `next` is present exactly when another item exists (a client
   * never fetches an empty last page). The cursor names the page's last chat id.
   */
  async listChatsOfUser(
    userId: UserId,
    page: { readonly limit: number; readonly cursor?: string },
  ): Promise<Page<MembershipRecord>> {
    checkPageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : decodePageCursor(page.cursor, userId);
    const keyCondition = "#user_id = :user";
    const items = await queryItems(
      this.client,
      `Query ${this.memberships} ${USER_CHATS_INDEX}`,
      {
        TableName: this.memberships,
        IndexName: USER_CHATS_INDEX,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeNames: attributeNames(keyCondition),
        ExpressionAttributeValues: { ":user": str(userId) },
        ...(after === undefined ? {} : { ExclusiveStartKey: membershipKey(after as ChatId, userId) }),
      },
      page.limit + 1,
    );
    const memberships = items.slice(0, page.limit).map(decodeMembership);
    const last = memberships.at(-1);
    return items.length > page.limit && last !== undefined
      ? { items: memberships, next: encodePageCursor(userId, last.chatId) }
      : { items: memberships };
  }

  /** Reads only the `role` of each of the user's memberships (at most a few pages: chats per user are capped). */
  async countChatsOfUser(userId: UserId): Promise<UserChatCounts> {
    const keyCondition = "#user_id = :user";
    const projection = "#role";
    const items = await queryItems(this.client, `Query ${this.memberships} ${USER_CHATS_INDEX}`, {
      TableName: this.memberships,
      IndexName: USER_CHATS_INDEX,
      KeyConditionExpression: keyCondition,
      ProjectionExpression: projection,
      ExpressionAttributeNames: attributeNames(keyCondition, projection),
      ExpressionAttributeValues: { ":user": str(userId) },
    });
    return {
      chats: items.length,
      ownedGroups: items.filter((item) => item.role?.S === "owner").length,
    };
  }

  /** D15: the sentinel put decides a race; the loser reads the winner back strongly consistent. */
  async claimDirectChat(
    userA: UserId,
    userB: UserId,
    chatId: ChatId,
  ): Promise<{ chatId: ChatId; claimed: boolean }> {
    const pairKey = directPairKey(userA, userB);
    const item = encodeDirectChat(pairKey, chatId, this.clock.now());
    if (await this.putIfAbsent(this.directChats, item, "pair_key")) return { chatId, claimed: true };
    const stored = await getItem(this.client, this.directChats, { pair_key: str(pairKey) }, true);
    // The sentinel is permanent (never deleted), so a failed claim always finds a holder.
    if (stored === undefined) return this.claimDirectChat(userA, userB, chatId);
    return { chatId: decodeDirectChatId(stored), claimed: false };
  }

  async getDirectChat(userA: UserId, userB: UserId): Promise<ChatId | undefined> {
    const item = await getItem(
      this.client,
      this.directChats,
      { pair_key: str(directPairKey(userA, userB)) },
      true,
    );
    return item === undefined ? undefined : decodeDirectChatId(item);
  }

  private async putIfAbsent(table: string, item: Item, keyAttribute: string): Promise<boolean> {
    const condition = `attribute_not_exists(#${keyAttribute})`;
    const command = new PutItemCommand({
      TableName: table,
      Item: item,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
    });
    return (await conditionalWrite(`PutItem ${table}`, () => this.client.send(command))) !== undefined;
  }

  /**
   * A conditional UpdateItem on an existing item of `chats` or `chat_memberships` (both keyed by `chat_id`
   * first): `attribute_exists(chat_id)` is added, so an update never creates an item; `:now` is supplied.
   * Returns the updated attributes, or undefined when the condition failed.
   */
  private async update(
    table: string,
    key: Item,
    expression: { readonly update: string; readonly condition: string; readonly values: Item },
  ): Promise<Item | undefined> {
    const condition = `attribute_exists(#chat_id) AND (${expression.condition})`;
    const command = new UpdateItemCommand({
      TableName: table,
      Key: key,
      UpdateExpression: expression.update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(expression.update, condition),
      ExpressionAttributeValues: { ...expression.values, ":now": num(this.clock.now()) },
      ReturnValues: "UPDATED_NEW",
    });
    const output = await conditionalWrite(`UpdateItem ${table}`, () => this.client.send(command));
    return output === undefined ? undefined : (output.Attributes ?? {});
  }
}

const membershipKey = (chatId: ChatId, userId: UserId): Item => ({
  chat_id: str(chatId),
  user_id: str(userId),
});
