import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { AppError } from "../../errors.js";
import { dynamoFailure, hasErrorName } from "./client.js";
import { createTableInput, type KeyAttribute, schemaMismatch, type TableDefinition } from "./table-schema.js";

/**
 * Every DynamoDB table of the product (spec/rest-data-auth-chats.md §4), as data: `ensureTables` creates
 * them, and deployment manifests (Terraform) are tested against this list. Names are `<prefix><table>`.
 * All tables are on-demand; the spec's provisioned tables are a capacity choice of production, not of the
 * data model. DynamoDB declares key attributes only; `attributes` lists the rest for readers and tests.
 */
export const TABLE_KEYS = [
  "messages",
  "chat_counters",
  "idempotency_keys",
  "users",
  "chats",
  "chat_memberships",
  "delivery_state",
  "sessions",
  "otp_requests",
  "direct_chat_index",
  "ring_config",
  "actor_activations",
  "request_idempotency",
  "rate_limits",
] as const;
export type TableKey = (typeof TABLE_KEYS)[number];

const S = (name: string): KeyAttribute => ({ name, type: "S" });
const N = (name: string): KeyAttribute => ({ name, type: "N" });
const ON_DEMAND = "PAY_PER_REQUEST";

export const TABLES: Readonly<Record<TableKey, TableDefinition>> = {
  // D16: one item per block, `sequence` holding the block's first sequence; `last_sequence` and `messages`
  // (a list of maps, each a message with its sequence, message_id, sender_id, client_message_id, content,
  // content_type and created_at) carry the rest. Items of the previous, per-message format (those attributes
  // at the top level) read as blocks of one.
  messages: {
    partitionKey: S("chat_id"),
    sortKey: N("sequence"),
    globalIndexes: [],
    attributes: ["last_sequence", "messages"],
    billingMode: ON_DEMAND,
  },
  // D2/D4/D16: `high_water` (a lower bound of the tail), `published_through` (the outbox position) and
  // `indexed_through` (how far idempotency_keys is complete). The spec's `sequence_counter` incremented with
  // ADD is replaced: the sequencer's conditional block puts are the authority on sequences. One more item,
  // `#storage-format` (attribute `format`), records the format of `messages` (runtime/adapters/dynamodb/storage-format.ts).
  chat_counters: {
    partitionKey: S("chat_id"),
    globalIndexes: [],
    attributes: ["high_water", "published_through", "indexed_through", "updated_at"],
    billingMode: ON_DEMAND,
  },
  // D16: an index of stored messages, written behind the block put (records of expired messages never).
  idempotency_keys: {
    partitionKey: S("chat_id"),
    sortKey: S("client_message_id"),
    globalIndexes: [],
    ttlAttribute: "ttl",
    attributes: ["message_id", "sequence", "created_at", "expires_at", "ttl"],
    billingMode: ON_DEMAND,
  },
  users: {
    partitionKey: S("user_id"),
    globalIndexes: [
      { indexName: "phone_number-index", partitionKey: S("phone_number"), projection: "KEYS_ONLY" },
    ],
    // Also holds the phone sentinels `PHONE#<sha256(phone)>` (D15), whose `canonical_user_id` names the user.
    attributes: [
      "phone_number",
      "phone_verified",
      "display_name",
      "created_at",
      "updated_at",
      "canonical_user_id",
    ],
    billingMode: ON_DEMAND,
  },
  chats: {
    partitionKey: S("chat_id"),
    globalIndexes: [],
    attributes: ["chat_type", "name", "created_by", "status", "member_count", "created_at", "updated_at"],
    billingMode: ON_DEMAND,
  },
  chat_memberships: {
    partitionKey: S("chat_id"),
    sortKey: S("user_id"),
    globalIndexes: [
      {
        indexName: "user_chats-index",
        partitionKey: S("user_id"),
        sortKey: S("chat_id"),
        projection: "ALL",
      },
    ],
    attributes: ["role", "joined_at", "muted_until", "updated_at"],
    billingMode: ON_DEMAND,
  },
  delivery_state: {
    partitionKey: S("user_id"),
    sortKey: S("chat_id"),
    globalIndexes: [],
    attributes: ["last_acked_sequence", "updated_at"],
    billingMode: ON_DEMAND,
  },
  sessions: {
    partitionKey: S("session_id"),
    globalIndexes: [{ indexName: "user_sessions-index", partitionKey: S("user_id"), projection: "ALL" }],
    ttlAttribute: "ttl",
    attributes: [
      "user_id",
      "device_id",
      "refresh_token_hash",
      "token_family",
      "token_generation",
      // The hashes of the last few rotated-out refresh tokens: presenting one is reuse (family revoked).
      "prev_token_hashes",
      "created_at",
      "last_active_at",
      "expires_at",
      "ttl",
    ],
    billingMode: ON_DEMAND,
  },
  otp_requests: {
    partitionKey: S("phone_hash"),
    globalIndexes: [],
    ttlAttribute: "ttl",
    // No `otp_ciphertext`: codes are kept only as HMAC, a re-request sends a new code. `locked_until`: the
    // lockout after too many wrong codes, which a new request cannot lift.
    // `login`: the session a verified code produced, so a retried verification gets the same one (spec §3.2).
    attributes: [
      "otp_mac",
      "created_at",
      "expires_at",
      "attempt_count",
      "status",
      "locked_until",
      "login",
      "ttl",
    ],
    billingMode: ON_DEMAND,
  },
  // The sentinel that makes a direct chat unique per pair (D15); `pair_key` is `min(a,b)#max(a,b)`.
  direct_chat_index: {
    partitionKey: S("pair_key"),
    globalIndexes: [],
    attributes: ["chat_id", "created_at"],
    billingMode: ON_DEMAND,
  },
  // D5: the placement ring, one item per ring (`default`), versioned and changed only by conditional updates.
  ring_config: {
    partitionKey: S("ring_id"),
    globalIndexes: [],
    attributes: ["version", "members", "updated_at"],
    billingMode: ON_DEMAND,
  },
  // Invariant 5: who holds each chat's active sequencer, one item per holder keyed `<chat>#<node>#<incarnation>`;
  // a marker of a gone holder makes the owner recover the chat's unpublished messages
  // (runtime/ports/activation-store.ts).
  actor_activations: {
    partitionKey: S("chat_id"),
    globalIndexes: [],
    attributes: ["chat", "node_id", "incarnation", "activated_at"],
    billingMode: ON_DEMAND,
  },
  // REST `Idempotency-Key`s (spec §1, §8.13), scoped `<user>#<endpoint>#<key>`; kept 24 h (D12).
  request_idempotency: {
    partitionKey: S("scope_key"),
    globalIndexes: [],
    ttlAttribute: "ttl",
    attributes: [
      "request_hash",
      "state",
      "resource_ids",
      "response_status",
      "created_at",
      "expires_at",
      "ttl",
    ],
    billingMode: ON_DEMAND,
  },
  // Fixed-window request counters (spec §3.4, kept in DynamoDB instead of Redis): `<limit>#<window index>`.
  rate_limits: {
    partitionKey: S("limit_key"),
    globalIndexes: [],
    ttlAttribute: "ttl",
    attributes: ["hit_count", "expires_at", "ttl"],
    billingMode: ON_DEMAND,
  },
};

/**
 * DynamoDB table names are 3..255 characters of this alphabet. Our table keys have 8..17 characters, so any
 * prefix of this alphabet up to 200 characters gives valid names.
 */
export const TABLE_PREFIX_PATTERN = /^[A-Za-z0-9_.-]*$/;
const MAX_PREFIX_LENGTH = 200;

export const tableName = (prefix: string, table: TableKey): string => `${prefix}${table}`;

export interface EnsureTablesReport {
  /** Full names of the tables this run created. */
  readonly created: string[];
  /** Full names of the tables that were already there (left as they are). */
  readonly existing: string[];
}

export interface EnsureTablesOptions {
  /** How long to wait for all tables to become ACTIVE. */
  readonly timeoutMs?: number;
}

/**
 * Creates the missing tables and waits until every table and index is ACTIVE. Idempotent and safe to run
 * from several processes at once: an existing table is left alone (a table whose keys differ from ours is
 * refused with CONFIG_INVALID, since keys cannot be changed in place).
 */
export async function ensureTables(
  client: DynamoDBClient,
  prefix: string,
  progress: (line: string) => void = () => {},
  options: EnsureTablesOptions = {},
): Promise<EnsureTablesReport> {
  if (!TABLE_PREFIX_PATTERN.test(prefix) || prefix.length > MAX_PREFIX_LENGTH) {
    throw new AppError("CONFIG_INVALID", `invalid table prefix ${JSON.stringify(prefix)}`);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  const report: EnsureTablesReport = { created: [], existing: [] };
  await Promise.all(
    TABLE_KEYS.map(async (key) => {
      const name = tableName(prefix, key);
      const created = await ensureTable(client, name, TABLES[key]);
      (created ? report.created : report.existing).push(name);
      await waitUntilActive(client, name, deadline);
      progress(`${created ? "created" : "exists "} ${name}`);
    }),
  );
  report.created.sort();
  report.existing.sort();
  return report;
}

/**
 * Deletes the product's tables under `prefix` that exist, for test suites and throwaway environments
 * (each test suite works under a prefix of its own). Returns the names deleted.
 */
export async function deleteTables(client: DynamoDBClient, prefix: string): Promise<string[]> {
  const deleted = await Promise.all(
    TABLE_KEYS.map(async (key) => {
      const name = tableName(prefix, key);
      try {
        await client.send(new DeleteTableCommand({ TableName: name }));
        return [name];
      } catch (error) {
        if (hasErrorName(error, "ResourceNotFoundException")) return [];
        throw storeFailure(error, "DeleteTable", name);
      }
    }),
  );
  return deleted.flat().sort();
}

/** True when this call created the table. */
async function ensureTable(client: DynamoDBClient, name: string, definition: TableDefinition) {
  const existing = await describeTable(client, name);
  if (existing === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(name, definition)));
      return true;
    } catch (error) {
      // Another process created it between our DescribeTable and CreateTable.
      if (!hasErrorName(error, "ResourceInUseException")) throw storeFailure(error, "CreateTable", name);
    }
  }
  const description = existing ?? (await describeTable(client, name));
  const mismatch = description === undefined ? "it vanished" : schemaMismatch(description, definition);
  if (mismatch !== undefined) {
    throw new AppError(
      "CONFIG_INVALID",
      `table ${name} exists but does not match its definition: ${mismatch}`,
    );
  }
  return false;
}

async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    const output = await client.send(new DescribeTableCommand({ TableName: name }));
    return output.Table;
  } catch (error) {
    if (hasErrorName(error, "ResourceNotFoundException")) return undefined;
    throw storeFailure(error, "DescribeTable", name);
  }
}

/** Polls DescribeTable with short, growing intervals: creation is instant on dynalite, seconds on AWS. */
async function waitUntilActive(client: DynamoDBClient, name: string, deadline: number): Promise<void> {
  let intervalMs = 25;
  for (;;) {
    const description = await describeTable(client, name);
    const indexes = description?.GlobalSecondaryIndexes ?? [];
    if (description?.TableStatus === "ACTIVE" && indexes.every((index) => index.IndexStatus === "ACTIVE")) {
      return;
    }
    if (Date.now() + intervalMs > deadline) {
      throw new AppError("SERVICE_UNAVAILABLE", `table ${name} did not become ACTIVE in time`, {
        details: { status: description?.TableStatus ?? "missing" },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    intervalMs = Math.min(intervalMs * 2, 1000);
  }
}

const storeFailure = (error: unknown, operation: string, table: string): AppError =>
  dynamoFailure(error, `${operation} ${table}`);
