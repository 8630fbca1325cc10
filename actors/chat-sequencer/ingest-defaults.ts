import { BLOCK_DEFAULTS } from "../../runtime/config.js";

/**
 * The ingest role's tuning where the configuration names none: idle passivation, the dedup windows, D16's
 * block, memory and index intervals, the write-behind of acks, and the outbox's retry and counter flushes.
 * Each number's reason is at its entry; the simulation and the durability tests start from these too.
 */
export const INGEST_DEFAULTS = {
  idleTimeoutMs: 5 * 60_000,
  /** Protocol §13: a client_message_id is remembered for 7 days. */
  idempotencyTtlMs: 7 * 24 * 60 * 60_000,
  recentSendsLimit: 1_000,
  /** D16: the caps of one block when not configured (BLOCK_MAX_MESSAGES, BLOCK_MAX_BYTES). */
  blockMaxMessages: BLOCK_DEFAULTS.maxMessages,
  blockMaxBytes: BLOCK_DEFAULTS.maxBytes,
  /** client_message_ids a sequencer holds above indexed_through before it refuses sends (rule 5). */
  memoryLimit: 100_000,
  /**
   * Index records are written behind the ack once this many messages wait, or after indexDelayMs. Each
   * flush also moves the chat's indexed_through (one UpdateItem), so a quiet chat pays that once per interval:
   * at 10 s, 1,000 chats with a message every 10 s each spent 0.75 requests per message on it; at 30 s, a
   * third. The cost of a longer interval is a longer scan for a new owner: at most indexBatchMessages
   * messages, or 30 s of a quiet chat's.
   */
  indexBatchMessages: 256,
  indexDelayMs: 30_000,
  /** Acks of one (chat, user) are written at most once per this many ms (and on passivation). */
  deliveryFlushMs: 1_000,
  /** A failed delivery_state write is retried after publishRetryMs, doubling up to this. */
  deliveryMaxRetryMs: 30_000,
  /** delivery_state writes in flight at once per node. */
  deliveryMaxInFlight: 16,
  publishRetryMs: 1_000,
  countersFlushMs: 30_000,
  countersFlushMessages: 1_000,
  maxBatch: 256,
} as const;
