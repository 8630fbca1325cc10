import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import { AppError } from "../../errors.js";
import { type ChatId, MAX_SEQUENCE, type Sequence, type UserId } from "../../ids.js";
import type {
  AppendResult,
  ChatCounters,
  DeliveryState,
  IdempotencyRecord,
  MessageRange,
  MessageStore,
  StoredMessage,
} from "../../ports/message-store.js";
import {
  checkAppendBatch,
  checkCounterAdvance,
  checkMessageRange,
  checkSequence,
  isInForce,
  isSameIdempotencyRecord,
} from "../store-arguments.js";
import { conditionalWrite } from "./client.js";
import { attributeNames, type Item, num, str } from "./item-codec.js";
import {
  decodeCounters,
  decodeDeliveryState,
  decodeIdempotencyRecord,
  decodeMessage,
  encodeIdempotencyRecord,
  encodeMessage,
} from "./message-items.js";
import { getItem, queryItems } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/**
 * A conditional write that fails only because a concurrent writer moved the item keeps being retried
 * against the fresh value; this many rounds without progress means something keeps rewriting the item.
 */
const MAX_CONTENDED_ROUNDS = 5;

const contended = (what: string): AppError =>
  new AppError("SERVICE_UNAVAILABLE", "storage is busy", { details: { contended: what } });

/**
 * The message store on DynamoDB (or dynalite): only single-item conditional writes, no transactions (D2).
 * Reads of messages and counters are strongly consistent; idempotency and delivery-state reads are
 * eventually consistent (spec §4), since the conditional writes behind them are the authority.
 */
export class DynamoMessageStore implements MessageStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly messages: string;
  private readonly idempotency: string;
  private readonly counters: string;
  private readonly delivery: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.messages = tableName(options.tablePrefix, "messages");
    this.idempotency = tableName(options.tablePrefix, "idempotency_keys");
    this.counters = tableName(options.tablePrefix, "chat_counters");
    this.delivery = tableName(options.tablePrefix, "delivery_state");
  }

  /**
   * D2: each put only if `(chat_id, sequence)` is free; the first sequence another writer holds fences the
   * rest. A failed condition is checked against the stored item: if it is this very message (same
   * message_id), an earlier attempt landed (the SDK retries a put whose answer timed out, or a twin owner
   * continued the same claim) and it counts as written, reported as stored. A failure other than a condition throws: how far the batch got is then unknown, and the caller
   * re-reads the tail as after any fencing (D2).
   */
  async appendMessages(chatId: ChatId, messages: readonly StoredMessage[]): Promise<AppendResult> {
    checkAppendBatch(chatId, messages);
    const condition = "attribute_not_exists(#chat_id)";
    const landedBefore: StoredMessage[] = [];
    const result = (written: number, conflictAt?: Sequence): AppendResult => ({
      written,
      ...(conflictAt === undefined ? {} : { conflictAt }),
      ...(landedBefore.length === 0 ? {} : { landedBefore }),
    });
    for (const [index, message] of messages.entries()) {
      const put = new PutItemCommand({
        TableName: this.messages,
        Item: encodeMessage(message),
        ConditionExpression: condition,
        ExpressionAttributeNames: attributeNames(condition),
      });
      const written = await conditionalWrite("PutItem messages", () => this.client.send(put));
      if (written !== undefined) continue;
      const holder = await this.getMessage(chatId, message.sequence);
      if (holder?.messageId !== message.messageId) return result(index, message.sequence);
      landedBefore.push(holder);
    }
    return result(messages.length);
  }

  async getMessage(chatId: ChatId, sequence: Sequence): Promise<StoredMessage | undefined> {
    const item = await getItem(
      this.client,
      this.messages,
      { chat_id: str(chatId), sequence: num(sequence) },
      true,
    );
    return item === undefined ? undefined : decodeMessage(item);
  }

  async readMessages(chatId: ChatId, range: MessageRange): Promise<StoredMessage[]> {
    checkMessageRange(range);
    const { after, before } = range;
    // Nothing can lie above the largest sequence or below the first; this also keeps after+1 and
    // before-1 safe integers.
    if ((after !== undefined && after >= MAX_SEQUENCE) || (before !== undefined && before <= 1)) return [];
    const values: Item = { ":chat": str(chatId) };
    let sequenceCondition = "";
    if (after !== undefined && before !== undefined) {
      // Both bounds are exclusive; BETWEEN is inclusive and refuses low > high.
      if (after + 1 > before - 1) return [];
      sequenceCondition = " AND #sequence BETWEEN :low AND :high";
      values[":low"] = num(after + 1);
      values[":high"] = num(before - 1);
    } else if (after !== undefined) {
      sequenceCondition = " AND #sequence > :after";
      values[":after"] = num(after);
    } else if (before !== undefined) {
      sequenceCondition = " AND #sequence < :before";
      values[":before"] = num(before);
    }
    const keyCondition = `#chat_id = :chat${sequenceCondition}`;
    const items = await queryItems(
      this.client,
      "Query messages",
      {
        TableName: this.messages,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeNames: attributeNames(keyCondition),
        ExpressionAttributeValues: values,
        ScanIndexForward: range.order === "asc",
        ConsistentRead: true,
      },
      range.limit,
    );
    return items.map(decodeMessage);
  }

  /** Independent keys, so written concurrently; the result keeps the order of `records`. */
  async putIdempotencyRecords(records: readonly IdempotencyRecord[]): Promise<IdempotencyRecord[]> {
    const existing = await Promise.all(records.map((record) => this.putIdempotencyRecord(record)));
    return existing.filter((record): record is IdempotencyRecord => record !== undefined);
  }

  async moveIdempotencyRecord(
    chatId: ChatId,
    clientMessageId: string,
    fromSequence: Sequence,
    toSequence: Sequence,
  ): Promise<IdempotencyRecord | undefined> {
    checkSequence(fromSequence);
    checkSequence(toSequence);
    const condition = "#sequence = :from AND #expires_at >= :now";
    const update = "SET #sequence = :to";
    const command = new UpdateItemCommand({
      TableName: this.idempotency,
      Key: { chat_id: str(chatId), client_message_id: str(clientMessageId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: {
        ":from": num(fromSequence),
        ":to": num(toSequence),
        ":now": num(this.clock.now()),
      },
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite("UpdateItem idempotency_keys", () => this.client.send(command));
    if (output?.Attributes !== undefined) return decodeIdempotencyRecord(output.Attributes);
    // Someone moved it first (or it lapsed): the stored record is the answer.
    const stored = await this.readIdempotencyRecord(chatId, clientMessageId, true);
    return stored !== undefined && isInForce(stored, this.clock.now()) ? stored : undefined;
  }

  async getIdempotencyRecord(
    chatId: ChatId,
    clientMessageId: string,
  ): Promise<IdempotencyRecord | undefined> {
    const record = await this.readIdempotencyRecord(chatId, clientMessageId, false);
    return record !== undefined && isInForce(record, this.clock.now()) ? record : undefined;
  }

  async getCounters(chatId: ChatId): Promise<ChatCounters | undefined> {
    const item = await getItem(this.client, this.counters, { chat_id: str(chatId) }, true);
    return item === undefined ? undefined : decodeCounters(item);
  }

  /**
   * D2/D4: one UpdateItem that sets each given field under the condition that it rises. When the condition
   * fails, the stored item tells which fields would still rise (one may, the other not): those are retried
   * alone, and when none would, the stored counters are the answer.
   */
  async advanceCounters(
    chatId: ChatId,
    advance: { readonly highWater?: number; readonly publishedThrough?: number },
  ): Promise<ChatCounters> {
    checkCounterAdvance(advance);
    let wanted = advance;
    for (let round = 1; round <= MAX_CONTENDED_ROUNDS; round++) {
      const updated = await this.raiseCounters(chatId, wanted);
      if (updated !== undefined) return updated;
      const stored = await this.getCounters(chatId);
      if (stored === undefined) continue;
      wanted = {
        ...(wanted.highWater !== undefined && wanted.highWater > stored.highWater
          ? { highWater: wanted.highWater }
          : {}),
        ...(wanted.publishedThrough !== undefined && wanted.publishedThrough > stored.publishedThrough
          ? { publishedThrough: wanted.publishedThrough }
          : {}),
      };
      if (wanted.highWater === undefined && wanted.publishedThrough === undefined) return stored;
    }
    throw contended("chat_counters");
  }

  /** D8, verbatim: `SET last_acked_sequence = :s IF attribute_not_exists(...) OR last_acked_sequence < :s`. */
  async advanceDeliveryState(userId: UserId, chatId: ChatId, sequence: Sequence): Promise<boolean> {
    checkSequence(sequence);
    const update = "SET #last_acked_sequence = :s, #updated_at = :now";
    const condition = "attribute_not_exists(#last_acked_sequence) OR #last_acked_sequence < :s";
    const command = new UpdateItemCommand({
      TableName: this.delivery,
      Key: { user_id: str(userId), chat_id: str(chatId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: { ":s": num(sequence), ":now": num(this.clock.now()) },
    });
    return (
      (await conditionalWrite("UpdateItem delivery_state", () => this.client.send(command))) !== undefined
    );
  }

  async getDeliveryState(userId: UserId, chatId: ChatId): Promise<DeliveryState | undefined> {
    const item = await getItem(
      this.client,
      this.delivery,
      { user_id: str(userId), chat_id: str(chatId) },
      false,
    );
    return item === undefined ? undefined : decodeDeliveryState(item);
  }

  async listDeliveryStates(userId: UserId): Promise<DeliveryState[]> {
    const keyCondition = "#user_id = :user";
    const items = await queryItems(this.client, "Query delivery_state", {
      TableName: this.delivery,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeNames: attributeNames(keyCondition),
      ExpressionAttributeValues: { ":user": str(userId) },
    });
    return items.map(decodeDeliveryState);
  }

  /**
   * D2/D12: create only if no record is in force. On a conflict the stored record is read back strongly
   * consistent and returned (unless it is this very record); if it lapsed in between, the put is tried again.
   */
  private async putIdempotencyRecord(record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    const condition = "attribute_not_exists(#chat_id) OR #expires_at < :now";
    for (let round = 1; round <= MAX_CONTENDED_ROUNDS; round++) {
      const put = new PutItemCommand({
        TableName: this.idempotency,
        Item: encodeIdempotencyRecord(record),
        ConditionExpression: condition,
        ExpressionAttributeNames: attributeNames(condition),
        ExpressionAttributeValues: { ":now": num(this.clock.now()) },
      });
      const created = await conditionalWrite("PutItem idempotency_keys", () => this.client.send(put));
      if (created !== undefined) return undefined;
      const stored = await this.readIdempotencyRecord(record.chatId, record.clientMessageId, true);
      // Our own record, from an earlier attempt that landed: it was created, not found.
      if (stored !== undefined && isSameIdempotencyRecord(stored, record)) return undefined;
      if (stored !== undefined && isInForce(stored, this.clock.now())) return stored;
    }
    throw contended("idempotency_keys");
  }

  private async readIdempotencyRecord(chatId: ChatId, clientMessageId: string, consistent: boolean) {
    const key = { chat_id: str(chatId), client_message_id: str(clientMessageId) };
    const item = await getItem(this.client, this.idempotency, key, consistent);
    return item === undefined ? undefined : decodeIdempotencyRecord(item);
  }

  /** The conditional half of `advanceCounters`: the counters afterwards, or undefined when nothing rose. */
  private async raiseCounters(
    chatId: ChatId,
    wanted: { readonly highWater?: number; readonly publishedThrough?: number },
  ): Promise<ChatCounters | undefined> {
    const sets = ["#updated_at = :now"];
    const conditions: string[] = [];
    const values: Item = { ":now": num(this.clock.now()) };
    const fields = [
      ["high_water", ":hw", wanted.highWater],
      ["published_through", ":pt", wanted.publishedThrough],
    ] as const;
    for (const [attribute, placeholder, value] of fields) {
      if (value === undefined) {
        // A counter item always carries both fields: a missing one starts at 0.
        sets.push(`#${attribute} = if_not_exists(#${attribute}, :zero)`);
        values[":zero"] = num(0);
      } else {
        sets.push(`#${attribute} = ${placeholder}`);
        conditions.push(`(attribute_not_exists(#${attribute}) OR #${attribute} < ${placeholder})`);
        values[placeholder] = num(value);
      }
    }
    const update = `SET ${sets.join(", ")}`;
    // Nothing asked to rise: only create a missing item (at 0/0).
    const condition = conditions.length === 0 ? "attribute_not_exists(#chat_id)" : conditions.join(" AND ");
    const command = new UpdateItemCommand({
      TableName: this.counters,
      Key: { chat_id: str(chatId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite("UpdateItem chat_counters", () => this.client.send(command));
    return output?.Attributes === undefined ? undefined : decodeCounters(output.Attributes);
  }
}
