import type {
  AttributeDefinition,
  CreateTableCommandInput,
  KeySchemaElement,
  TableDescription,
} from "@aws-sdk/client-dynamodb";

/** A table of the product as data (the list is TABLES in ./tables.ts). */
export type KeyType = "S" | "N";

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** KEYS_ONLY projects the table's and the index's keys. */
  readonly projection: "ALL" | "KEYS_ONLY";
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDefinition[];
  /**
   * The attribute production's DynamoDB TTL deletes by (epoch seconds). Only a storage saving: dynalite has
   * no TTL and real TTL lags by up to days, so reads and conditions go by `expires_at` (D12).
   */
  readonly ttlAttribute?: string;
  /** Non-key attributes of the items. */
  readonly attributes: readonly string[];
  readonly billingMode: "PAY_PER_REQUEST";
}

/** Translation between our table definitions and DynamoDB's CreateTable / DescribeTable shapes. */
const keySchema = (partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] => [
  { AttributeName: partitionKey.name, KeyType: "HASH" },
  ...(sortKey === undefined ? [] : [{ AttributeName: sortKey.name, KeyType: "RANGE" as const }]),
];

export function createTableInput(name: string, definition: TableDefinition): CreateTableCommandInput {
  const keys = new Map<string, KeyAttribute>();
  const collect = (key: KeyAttribute | undefined) => {
    if (key !== undefined) keys.set(key.name, key);
  };
  collect(definition.partitionKey);
  collect(definition.sortKey);
  for (const index of definition.globalIndexes) {
    collect(index.partitionKey);
    collect(index.sortKey);
  }
  const attributeDefinitions: AttributeDefinition[] = [...keys.values()].map((key) => ({
    AttributeName: key.name,
    AttributeType: key.type,
  }));
  return {
    TableName: name,
    BillingMode: definition.billingMode,
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.globalIndexes.length === 0
      ? {}
      : {
          GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: index.projection },
          })),
        }),
  };
}

const describeKeys = (schema: readonly KeySchemaElement[] | undefined): string =>
  (schema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).join(",");

const attributeTypes = (description: TableDescription): Map<string, string | undefined> =>
  new Map((description.AttributeDefinitions ?? []).map((a) => [a.AttributeName ?? "", a.AttributeType]));

/**
 * Why an existing table cannot serve as `definition` (different keys, key types or a missing index), or
 * undefined when it can. Extra indexes and non-key settings are not our concern.
 */
export function schemaMismatch(
  description: TableDescription,
  definition: TableDefinition,
): string | undefined {
  const types = attributeTypes(description);
  const expected = createTableInput(description.TableName ?? "", definition);
  const wantedKeys = describeKeys(expected.KeySchema);
  const actualKeys = describeKeys(description.KeySchema);
  if (wantedKeys !== actualKeys) return `key schema is ${actualKeys}, expected ${wantedKeys}`;
  for (const index of expected.GlobalSecondaryIndexes ?? []) {
    const actual = description.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === index.IndexName);
    if (actual === undefined) return `index ${index.IndexName} is missing`;
    if (describeKeys(actual.KeySchema) !== describeKeys(index.KeySchema)) {
      return `index ${index.IndexName} has keys ${describeKeys(actual.KeySchema)}, expected ${describeKeys(index.KeySchema)}`;
    }
  }
  // Every key attribute of the table and of its indexes is declared with its type.
  for (const attribute of expected.AttributeDefinitions ?? []) {
    const actual = types.get(attribute.AttributeName ?? "");
    if (actual !== attribute.AttributeType) {
      return `key attribute ${attribute.AttributeName} has type ${actual ?? "none"}, expected ${attribute.AttributeType}`;
    }
  }
  return undefined;
}
