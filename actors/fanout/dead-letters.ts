import { isoTime } from "../../runtime/clock.js";
import type { ConsumedRecord, EventRecord } from "../../runtime/ports/event-log.js";

/** The header counting processing attempts (spec §4: a decimal string; absent = 1). */
const PROCESSING_ATTEMPTS_HEADER = "x-processing-attempts";

/** The `dead_letters` value of spec/delivery-presence-kafka.md §4. */
export interface DeadLetter {
  readonly dlq_metadata: {
    readonly original_topic: string;
    readonly original_partition: number;
    /** Decimal string (Kafka offsets are 64-bit). */
    readonly original_offset: string;
    readonly original_timestamp: string;
    readonly consumer_group: string;
    readonly consumer_id: string;
    readonly failure_reason: string;
    readonly failure_timestamp: string;
    readonly processing_attempts: number;
  };
  readonly original_record: {
    readonly key: string;
    /** The original bytes, base64: a poison record need not be UTF-8. */
    readonly value: string;
    readonly headers: Readonly<Record<string, string>>;
  };
}

function processingAttempts(record: ConsumedRecord): number {
  const raw = record.headers[PROCESSING_ATTEMPTS_HEADER];
  const parsed = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : 1;
}

/** The dead-letter record of a poison record, keyed like the original so one chat's letters stay together. */
export function deadLetterRecord(
  record: ConsumedRecord,
  context: { consumerGroup: string; consumerId: string; reason: string; now: number },
): EventRecord {
  const letter: DeadLetter = {
    dlq_metadata: {
      original_topic: record.topic,
      original_partition: record.partition,
      original_offset: record.offset,
      original_timestamp: isoTime(record.timestamp),
      consumer_group: context.consumerGroup,
      consumer_id: context.consumerId,
      failure_reason: context.reason,
      failure_timestamp: isoTime(context.now),
      processing_attempts: processingAttempts(record),
    },
    original_record: {
      key: record.key,
      value: Buffer.from(record.value).toString("base64"),
      headers: record.headers,
    },
  };
  return { key: record.key, value: new TextEncoder().encode(JSON.stringify(letter)) };
}
