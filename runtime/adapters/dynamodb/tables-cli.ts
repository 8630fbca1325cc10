import { parseArgs } from "node:util";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SystemClock } from "../../clock.js";
import { isEntryPoint } from "../../entry-point.js";
import { isAppError } from "../../errors.js";
import { createDynamoClient } from "./client.js";
import { detectStorageFormat, migrateStorage } from "./storage-format.js";
import { ensureTables, TABLE_KEYS, TABLE_PREFIX_PATTERN } from "./tables.js";

/**
 * `npm run tables`: creates the product's DynamoDB tables where they are missing, on a local engine or AWS.
 * Safe to run again at any time: existing tables are left as they are. Production manages its tables with
 * Terraform; this command is for dynalite, DynamoDB Local and throwaway environments.
 */
const HELP = `Usage: npm run tables -- [options]

Creates the missing DynamoDB tables of the product (${TABLE_KEYS.join(", ")})
and waits until they are ACTIVE. Existing tables are left alone; one whose keys differ is reported as an error.

With --migrate, then brings messages written by the previous storage format (one item per message) to the
block format of this version: rewrites the idempotency index from the stored messages and sets each chat's
indexed_through to its tail. Stop every ingest node first. Idempotent: safe to run again, also after an
interruption; nothing stored is changed or removed.

Options:
  --migrate          migrate messages of the previous storage format (see above)
  --endpoint <url>   DynamoDB endpoint, e.g. http://127.0.0.1:8000 (env DYNAMODB_ENDPOINT; default: AWS)
  --prefix <text>    prefix of every table name (env TABLE_PREFIX; default: none)
  --region <name>    AWS region (env AWS_REGION; default: us-east-1)
  -h, --help         print this help

Exit status: 0 when every table exists and is ACTIVE, 1 on failure, 2 on bad arguments.`;

export interface CliOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The whole command, callable in-process by tests; returns the exit status. */
export async function runTablesCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  output: CliOutput = consoleOutput,
): Promise<number> {
  let values: { endpoint?: string; prefix?: string; region?: string; migrate?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        endpoint: { type: "string" },
        prefix: { type: "string" },
        region: { type: "string" },
        migrate: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    output.err(`tables: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    output.out(HELP);
    return 0;
  }
  const endpoint = values.endpoint ?? (env.DYNAMODB_ENDPOINT || undefined);
  const prefix = values.prefix ?? env.TABLE_PREFIX ?? "";
  const region = values.region ?? (env.AWS_REGION || "us-east-1");
  if (!TABLE_PREFIX_PATTERN.test(prefix)) {
    output.err(`tables: --prefix may hold only letters, digits, "_", "." and "-"`);
    return 2;
  }

  let client: DynamoDBClient;
  try {
    client = createDynamoClient({ region, ...(endpoint === undefined ? {} : { endpoint }) });
  } catch (error) {
    output.err(`tables: ${describeFailure(error)}`);
    return 2;
  }
  const target = endpoint ?? `AWS DynamoDB in ${region}`;
  output.out(
    `tables: ensuring ${TABLE_KEYS.length} tables on ${target}${prefix ? ` with prefix "${prefix}"` : ""}`,
  );
  try {
    const report = await ensureTables(client, prefix, (line) => output.out(`  ${line}`));
    output.out(`tables: done (${report.created.length} created, ${report.existing.length} already there)`);
    if (values.migrate) {
      const options = { client, tablePrefix: prefix, clock: new SystemClock() };
      if ((await detectStorageFormat(options)) === "current") {
        output.out("tables: messages are already in the current storage format; nothing to migrate");
      } else {
        const migrated = await migrateStorage({ ...options, progress: (line) => output.out(`  ${line}`) });
        output.out(
          `tables: migrated ${migrated.items} items of ${migrated.chats} chats (${migrated.records} index records)`,
        );
      }
    }
    return 0;
  } catch (error) {
    output.err(`tables: failed on ${target}: ${describeFailure(error)}`);
    return 1;
  } finally {
    client.destroy();
  }
}

/** Our message plus the root cause (e.g. ECONNREFUSED), which is what a person running this needs. */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && parts.length < 4) {
    const code = "code" in current && typeof current.code === "string" ? ` (${current.code})` : "";
    parts.push(`${current.message || current.name}${code}`);
    current = current.cause;
  }
  if (parts.length === 0) parts.push(String(error));
  const hint = isAppError(error) && error.code === "SERVICE_UNAVAILABLE" ? " (is the endpoint up?)" : "";
  return parts.join(": ") + hint;
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runTablesCli(process.argv.slice(2));
}
