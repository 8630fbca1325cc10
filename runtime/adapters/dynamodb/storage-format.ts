import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import { AppError } from "../../errors.js";
import type { ChatId } from "../../ids.js";
import type { IdempotencyRecord } from "../../ports/message-store.js";
import { dynamoRequest } from "./client.js";
import { type Item, num, readOptionalNumber, str } from "./item-codec.js";
import { decodeBlock } from "./message-items.js";
import { DynamoMessageStore } from "./message-store.js";
import { tableName } from "./tables.js";

/**
 * D16 rule 10, offline: the format of `messages`. Version 1 stored one item per message and claimed every
 * client_message_id in `idempotency_keys` before writing; version 2 stores blocks and writes the index behind
 * them, with `indexed_through` saying how far it is complete. A table written by version 1 is migrated with
 * every ingest node stopped: the index is rewritten from the stored messages, then each chat's
 * `indexed_through` is set to its tail by compare-and-set, then the format item says 2. Old items stay as
 * they are (they read as blocks of one); a version-2 sequencer that finds one above `indexed_through` knows a
 * version-1 node is still writing and refuses the chat.
 */
const STORAGE_FORMAT = 2;
/** The item of `chat_counters` that records the format; no chat id starts with `#`. */
const FORMAT_ITEM_KEY = "#storage-format";
const MIGRATE_COMMAND = "npm run tables -- --migrate";
/** Protocol §13: a client_message_id is remembered for 7 days (the sequencers' idempotencyTtlMs). */
const IDEMPOTENCY_TTL_MS = 7 * 24 * 60 * 60_000;

export type StorageFormatState = "current" | "previous";

export interface FormatOptions {
  readonly client: DynamoDBClient;
  readonly tablePrefix: string;
  readonly clock: Pick<Clock, "now">;
}

async function storedFormat(options: FormatOptions): Promise<number | undefined> {
  const table = tableName(options.tablePrefix, "chat_counters");
  const output = await dynamoRequest(`GetItem ${table}`, () =>
    options.client.send(
      new GetItemCommand({ TableName: table, Key: { chat_id: str(FORMAT_ITEM_KEY) }, ConsistentRead: true }),
    ),
  );
  return output.Item === undefined ? undefined : readOptionalNumber(output.Item, "format");
}

async function writeFormat(options: FormatOptions): Promise<void> {
  const table = tableName(options.tablePrefix, "chat_counters");
  await dynamoRequest(`PutItem ${table}`, () =>
    options.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          chat_id: str(FORMAT_ITEM_KEY),
          format: num(STORAGE_FORMAT),
          updated_at: num(options.clock.now()),
        },
      }),
    ),
  );
}

/** Pages of `messages` (whole items), for the detection and the migration. */
async function* scanMessages(options: FormatOptions, filterLegacy: boolean): AsyncGenerator<Item[]> {
  const table = tableName(options.tablePrefix, "messages");
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoRequest(`Scan ${table}`, () =>
      options.client.send(
        new ScanCommand({
          TableName: table,
          Limit: 500,
          ...(filterLegacy
            ? {
                FilterExpression: "attribute_not_exists(#messages)",
                ExpressionAttributeNames: { "#messages": "messages" },
              }
            : {}),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      ),
    );
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

/**
 * "current" when the format item says so, or when `messages` holds no item of the per-message format (a new
 * table: the format item is written then); "previous" otherwise.
 */
export async function detectStorageFormat(options: FormatOptions): Promise<StorageFormatState> {
  const format = await storedFormat(options);
  if (format !== undefined && format >= STORAGE_FORMAT) return "current";
  for await (const page of scanMessages(options, true)) {
    if (page.length > 0) return "previous";
  }
  await writeFormat(options);
  return "current";
}

/** Start-up: refuses a table of the previous format with the command that migrates it, or migrates it. */
export async function requireStorageFormat(
  options: FormatOptions & { readonly migrate: boolean; readonly progress: (line: string) => void },
): Promise<void> {
  if ((await detectStorageFormat(options)) === "current") return;
  if (!options.migrate) {
    throw new AppError(
      "CONFIG_INVALID",
      `the messages table holds messages of the previous storage format; stop every ingest node and run \`${MIGRATE_COMMAND}\` (with the same DYNAMODB_ENDPOINT and TABLE_PREFIX), then start this version`,
    );
  }
  options.progress("messages are in the previous storage format: migrating");
  await migrateStorage(options);
}

export interface MigrationReport {
  readonly items: number;
  readonly chats: number;
  readonly records: number;
}

/**
 * Idempotent: rewrites the index from every stored message (records already expired are skipped), then moves
 * each chat's `indexed_through` up to its tail by compare-and-set, then records the format. Run with every
 * ingest node stopped. Safe to run again after an interruption or on a migrated table.
 */
export async function migrateStorage(
  options: FormatOptions & { readonly progress: (line: string) => void },
): Promise<MigrationReport> {
  const store = new DynamoMessageStore(options);
  const tails = new Map<ChatId, number>();
  let items = 0;
  let records = 0;
  for await (const page of scanMessages(options, false)) {
    const writes: IdempotencyRecord[] = [];
    for (const item of page) {
      const block = decodeBlock(item);
      tails.set(block.chatId, Math.max(tails.get(block.chatId) ?? 0, block.lastSequence));
      for (const message of block.messages) {
        writes.push({
          chatId: message.chatId,
          clientMessageId: message.clientMessageId,
          messageId: message.messageId,
          sequence: message.sequence,
          createdAt: message.createdAt,
          expiresAt: message.createdAt + IDEMPOTENCY_TTL_MS,
        });
      }
    }
    // Records of expired messages are skipped by the store (rule 8).
    await store.putIndexRecords(writes);
    items += page.length;
    records += writes.length;
    options.progress(`migrate: ${items} items read, ${records} index records written, ${tails.size} chats`);
  }
  let done = 0;
  for (const [chatId, tail] of tails) {
    for (let round = 0; round < 5; round++) {
      const counters = await store.getCounters(chatId);
      const from = counters?.indexedThrough ?? 0;
      if (from >= tail) break;
      const stored = await store.compareAndSetIndexedThrough(chatId, from, tail);
      if (stored.indexedThrough >= tail) break;
    }
    done++;
    if (done % 1000 === 0 || done === tails.size)
      options.progress(`migrate: indexed_through set for ${done}/${tails.size} chats`);
  }
  await writeFormat(options);
  options.progress(`migrate: done (format ${STORAGE_FORMAT})`);
  return { items, chats: tails.size, records };
}
