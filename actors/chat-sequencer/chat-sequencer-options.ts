import type { Tracer } from "@opentelemetry/api";
import type { Clock } from "../../runtime/clock.js";
import type { ChatId, IdFactory } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { DurabilityRecorder } from "../../runtime/metrics/recorders.js";
import type { ActivationStore } from "../../runtime/ports/activation-store.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog } from "../../runtime/ports/event-log.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { DeliveryWrites } from "./delivery-writes.js";
import type { Failpoints } from "./failpoints.js";
import type { IndexReader } from "./index-reader.js";
import type { IndexWriter } from "./index-writer.js";
import type { MembershipReader } from "./membership-reader.js";

/**
 * What one ChatSequencer is built from: its chat, the ports it writes through, the node's shared coalescing
 * readers and writers, and the caps and intervals of D16. The ingest service fills it from INGEST_DEFAULTS;
 * the simulation fills it per owner, so two owners of one chat can differ as two versions would.
 */
export interface ChatSequencerOptions {
  readonly chatId: ChatId;
  readonly messageStore: MessageStore;
  readonly chatStore: ChatStore;
  /** The node's coalesced, strongly consistent membership checks. */
  readonly memberships: MembershipReader;
  /** The node's coalesced, strongly consistent index lookups (D16). */
  readonly indexReader: IndexReader;
  /** The node's batched index writes (D16). */
  readonly indexWriter: IndexWriter;
  /** The node's write-behind of delivery_state (D16 rule 9). */
  readonly deliveryWrites: DeliveryWrites;
  /** Caps of one block (D16): messages, and bytes of content plus a fixed allowance per message. */
  readonly blockMaxMessages: number;
  readonly blockMaxBytes: number;
  /** client_message_ids held above `indexed_through` at most; sends are refused while it is full (rule 5). */
  readonly memoryLimit: number;
  /** Index records are written once this many messages wait for them … */
  readonly indexBatchMessages: number;
  /** … or this long after the first of them (and always when draining). */
  readonly indexDelayMs: number;
  readonly eventLog: EventLog;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly logger: Logger;
  readonly producerId: string;
  /** Spans of the outbox's publications (`durability.kafka_produce`). */
  readonly tracer: Tracer;
  /** Counts written messages and fencing conflicts; absent: nothing is recorded. */
  readonly metrics?: DurabilityRecorder;
  readonly failpoints: Failpoints;
  /** How long a client_message_id is remembered durably (protocol §13: 7 days). */
  readonly idempotencyTtlMs: number;
  /** Stored messages remembered per chat beyond the watermark, so a quick retry needs no lookup. */
  readonly recentSendsLimit: number;
  readonly publishRetryMs: number;
  readonly countersFlushMs: number;
  readonly countersFlushMessages: number;
  /** Where this sequencer records that it is active (invariant 5 recovery); absent = not recorded. */
  readonly activations?: ActivationHolder;
}

/** This process as the holder of a chat's activation marker. */
export interface ActivationHolder {
  readonly store: ActivationStore;
  readonly nodeId: string;
  readonly incarnation: string;
  /**
   * A marker older than this may be evicted by the chat's owner once it woke the chat; the sequencer
   * refreshes its marker before writing once half of it has passed (runtime/placement/activation-recovery).
   */
  readonly leaseMs: number;
}

/** Rounds of "another owner extended the chain: reload and try again" before giving up for now. */
export const MAX_COMMIT_ROUNDS = 8;
