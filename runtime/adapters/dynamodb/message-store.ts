import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import { AppError } from "../../errors.js";
import type { ChatId, Sequence, UserId } from "../../ids.js";
import type {
  BlockPutOutcome,
  ChatCounters,
  DeliveryState,
  IdempotencyRecord,
  IndexKey,
  MessageBlock,
  MessageStore,
  StoredMessage,
} from "../../ports/message-store.js";
import { type BlockQuery, BlockReadingStore } from "../block-reads.js";
import {
  checkBlock,
  checkCounterAdvance,
  checkIndexedThrough,
  checkSequence,
  isInForce,
} from "../store-arguments.js";
import { conditionalWrite, dynamoRequest } from "./client.js";
import { attributeNames, type Item, num, str } from "./item-codec.js";
import {
  decodeBlock,
  decodeCounters,
  decodeDeliveryState,
  decodeIdempotencyRecord,
  encodeBlock,
  encodeIdempotencyRecord,
} from "./message-items.js";
import { batchGetItems, getItem, queryItems } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

/**
 * A conditional write that fails only because a concurrent writer moved the item keeps being retried
 * against the fresh value; this many rounds without progress means something keeps rewriting the item.
 */
const MAX_CONTENDED_ROUNDS = 5;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE_LIMIT = 25;
/** Rounds of re-sending UnprocessedItems (throttling), with backoff, before the write counts as failed. */
const MAX_UNPROCESSED_ROUNDS = 8;
const UNPROCESSED_BACKOFF_MS = 20;

const contended = (what: string): AppError =>
  new AppError("SERVICE_UNAVAILABLE", "storage is busy", { details: { contended: what } });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The message store on DynamoDB (or dynalite): single-item conditional writes and, for the index, batched
 * puts of records made from stored blocks; no transactions. Reads of messages, counters and the index are
 * strongly consistent; delivery-state reads are eventually consistent (spec §4), since the conditional
 * writes behind them are the authority.
 */
export class DynamoMessageStore extends BlockReadingStore implements MessageStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly messages: string;
  private readonly idempotency: string;
  private readonly counters: string;
  private readonly delivery: string;

  constructor(options: DynamoStoreOptions) {
    super();
    this.client = options.client;
    this.clock = options.clock;
    this.messages = tableName(options.tablePrefix, "messages");
    this.idempotency = tableName(options.tablePrefix, "idempotency_keys");
    this.counters = tableName(options.tablePrefix, "chat_counters");
    this.delivery = tableName(options.tablePrefix, "delivery_state");
  }

  /** D16: one PutItem with `attribute_not_exists` under the block's first sequence. */
  async appendBlock(chatId: ChatId, messages: readonly StoredMessage[]): Promise<BlockPutOutcome> {
    checkBlock(chatId, messages);
    const condition = "attribute_not_exists(#chat_id)";
    const put = new PutItemCommand({
      TableName: this.messages,
      Item: encodeBlock(chatId, messages),
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(condition),
    });
    const written = await conditionalWrite("PutItem messages", () => this.client.send(put));
    return written === undefined ? "taken" : "written";
  }

  /** Strongly consistent BatchGetItem; UnprocessedKeys are re-read (rule 4). */
  async getIndexRecords(keys: readonly IndexKey[]): Promise<IdempotencyRecord[]> {
    const unique = new Map<string, Item>();
    for (const { chatId, clientMessageId } of keys) {
      unique.set(`${chatId}\u0000${clientMessageId}`, {
        chat_id: str(chatId),
        client_message_id: str(clientMessageId),
      });
    }
    const items = await batchGetItems(this.client, this.idempotency, [...unique.values()], true);
    const now = this.clock.now();
    return items.map(decodeIdempotencyRecord).filter((record) => isInForce(record, now));
  }

  /**
   * BatchWriteItem, 25 records per request, sent concurrently; UnprocessedItems are re-sent with backoff and
   * the call resolves only once none is left (rule 4). A key given twice keeps its record of the highest
   * sequence (DynamoDB refuses duplicate keys in one request).
   */
  async putIndexRecords(records: readonly IdempotencyRecord[]): Promise<void> {
    const now = this.clock.now();
    const unique = new Map<string, IdempotencyRecord>();
    for (const record of records) {
      if (!isInForce(record, now)) continue;
      const recordKey = `${record.chatId}\u0000${record.clientMessageId}`;
      const known = unique.get(recordKey);
      if (known === undefined || known.sequence < record.sequence) unique.set(recordKey, record);
    }
    const requests: WriteRequest[] = [...unique.values()].map((record) => ({
      PutRequest: { Item: encodeIdempotencyRecord(record) },
    }));
    const chunks: WriteRequest[][] = [];
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      chunks.push(requests.slice(start, start + BATCH_WRITE_LIMIT));
    }
    await Promise.all(chunks.map((chunk) => this.batchWrite(chunk)));
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

  /** Rule 3: `SET indexed_through = :to` only where it is stored as `:from` (missing counts as 0). */
  async compareAndSetIndexedThrough(chatId: ChatId, from: number, to: number): Promise<ChatCounters> {
    checkIndexedThrough(from, to);
    const update =
      "SET #indexed_through = :to, #updated_at = :now, #high_water = if_not_exists(#high_water, :zero), " +
      "#published_through = if_not_exists(#published_through, :zero)";
    const condition =
      from === 0
        ? "attribute_not_exists(#indexed_through) OR #indexed_through = :from"
        : "#indexed_through = :from";
    const command = new UpdateItemCommand({
      TableName: this.counters,
      Key: { chat_id: str(chatId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: attributeNames(update, condition),
      ExpressionAttributeValues: {
        ":to": num(to),
        ":from": num(from),
        ":now": num(this.clock.now()),
        ":zero": num(0),
      },
      ReturnValues: "ALL_NEW",
    });
    const output = await conditionalWrite("UpdateItem chat_counters", () => this.client.send(command));
    if (output?.Attributes !== undefined) return decodeCounters(output.Attributes);
    const stored = await this.getCounters(chatId);
    return stored ?? { chatId, highWater: 0, publishedThrough: 0, indexedThrough: 0, updatedAt: 0 };
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

  private async batchWrite(chunk: readonly WriteRequest[]): Promise<void> {
    let pending = chunk;
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_UNPROCESSED_ROUNDS) throw contended("idempotency_keys");
      if (round > 1) await sleep(UNPROCESSED_BACKOFF_MS * 2 ** (round - 2));
      const request = { [this.idempotency]: [...pending] };
      const output = await dynamoRequest(`BatchWriteItem ${this.idempotency}`, () =>
        this.client.send(new BatchWriteItemCommand({ RequestItems: request })),
      );
      pending = output.UnprocessedItems?.[this.idempotency] ?? [];
    }
  }

  /** The primitive of the shared block reads: one strongly consistent Query over a range of block keys. */
  protected async queryBlocks(chatId: ChatId, query: BlockQuery): Promise<MessageBlock[]> {
    const values: Item = { ":chat": str(chatId) };
    let range = "";
    if (query.lowest !== undefined && query.highest !== undefined) {
      if (query.lowest > query.highest) return [];
      range = " AND #sequence BETWEEN :low AND :high";
      values[":low"] = num(query.lowest);
      values[":high"] = num(query.highest);
    } else if (query.lowest !== undefined) {
      range = " AND #sequence >= :low";
      values[":low"] = num(query.lowest);
    } else if (query.highest !== undefined) {
      range = " AND #sequence <= :high";
      values[":high"] = num(query.highest);
    }
    const keyCondition = `#chat_id = :chat${range}`;
    const items = await queryItems(
      this.client,
      "Query messages",
      {
        TableName: this.messages,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeNames: attributeNames(keyCondition),
        ExpressionAttributeValues: values,
        ScanIndexForward: query.order === "asc",
        ConsistentRead: true,
      },
      query.limit,
    );
    return items.map(decodeBlock);
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
