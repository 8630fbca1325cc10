import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { Clock } from "../../clock.js";
import { AppError } from "../../errors.js";
import {
  EMPTY_RING,
  MEMBER_STATES,
  type MemberState,
  type RingConfig,
  type RingMember,
} from "../../placement/ring-config.js";
import type { RingStore } from "../../ports/ring-store.js";
import { conditionalWrite } from "./client.js";
import { type Item, num, readNumber, readString, str } from "./item-codec.js";
import { getItem } from "./reads.js";
import type { DynamoStoreOptions } from "./store-options.js";
import { tableName } from "./tables.js";

const RING_ID = "default";

/**
 * The ring configuration as one item of `ring_config`. Members are stored as a JSON string: the list is small
 * (ingest nodes), is always read and written whole, and must be compared as a whole by the version check.
 */
export class DynamoRingStore implements RingStore {
  private readonly client: DynamoDBClient;
  private readonly clock: Pick<Clock, "now">;
  private readonly table: string;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.table = tableName(options.tablePrefix, "ring_config");
  }

  async read(): Promise<RingConfig> {
    const item = await getItem(this.client, this.table, { ring_id: str(RING_ID) }, true);
    return item === undefined ? EMPTY_RING : decodeRing(item);
  }

  async write(expectedVersion: number, members: readonly RingMember[]): Promise<RingConfig | undefined> {
    const config: RingConfig = {
      version: expectedVersion + 1,
      members: members.map(({ nodeId, weight, state }) => ({ nodeId, weight, state })),
      updatedAt: this.clock.now(),
    };
    const written = await conditionalWrite("PutItem ring_config", () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ring_id: str(RING_ID),
            version: num(config.version),
            members: str(JSON.stringify(config.members)),
            updated_at: num(config.updatedAt),
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: "attribute_not_exists(ring_id)" }
            : {
                ConditionExpression: "version = :expected",
                ExpressionAttributeValues: { ":expected": num(expectedVersion) },
              }),
        }),
      ),
    );
    return written === undefined ? undefined : config;
  }
}

function decodeRing(item: Item): RingConfig {
  const raw = JSON.parse(readString(item, "members")) as unknown;
  if (!Array.isArray(raw)) throw malformed();
  const members = raw.map((value: unknown): RingMember => {
    const { nodeId, weight, state } = (value ?? {}) as Record<string, unknown>;
    if (typeof nodeId !== "string" || typeof weight !== "number") throw malformed();
    if (!(MEMBER_STATES as readonly unknown[]).includes(state)) throw malformed();
    return { nodeId, weight, state: state as MemberState };
  });
  return { version: readNumber(item, "version"), members, updatedAt: readNumber(item, "updated_at") };
}

const malformed = () =>
  new AppError("INTERNAL_ERROR", "the stored ring configuration is malformed", { public: false });
