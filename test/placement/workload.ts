import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { isAppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import type { MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import { readAllMessages } from "../support/reads.js";

/** What a client was told: the send of `clientMessageId` is durable at `sequence` (ACK = durability). */
export interface Acked {
  readonly chatId: ChatId;
  readonly clientMessageId: string;
  readonly content: string;
  readonly sequence: number;
  readonly messageId: string;
  /** Time from the first attempt to the ack, retries included. */
  readonly latencyMs: number;
}

export interface LoadResult {
  readonly acked: Acked[];
  /** Sends that never got an ack within their retries (allowed; they must then be stored once or not at all). */
  readonly unacked: { chatId: ChatId; clientMessageId: string; content: string }[];
  readonly retries: number;
}

/**
 * Clients sending to many chats at once, each chat's sends one after another, every failed send retried with
 * the same client_message_id (as the client contract requires) a bounded number of times.
 */
export async function sendLoad(
  ingest: IngestApi,
  chats: readonly { chatId: ChatId; sender: UserId }[],
  perChat: number,
  options: {
    pauseMs?: number;
    attempts?: number;
    tag?: string;
    /** Told the number of sends acknowledged so far after each ack (e.g. to act once the load is under way). */
    onAcked?: (total: number) => void;
  } = {},
): Promise<LoadResult> {
  const acked: Acked[] = [];
  const unacked: LoadResult["unacked"] = [];
  let retries = 0;
  await Promise.all(
    chats.map(async ({ chatId, sender }) => {
      for (let i = 0; i < perChat; i++) {
        const clientMessageId = randomUUID();
        const content = `${options.tag ?? "m"}-${i}-${clientMessageId.slice(0, 8)}`;
        const started = Date.now();
        let done = false;
        for (let attempt = 0; attempt < (options.attempts ?? 5) && !done; attempt++) {
          if (attempt > 0) retries++;
          try {
            const result = await ingest.persist({
              chatId,
              senderId: sender,
              clientMessageId,
              content,
              contentType: "text/plain",
            });
            acked.push({
              chatId,
              clientMessageId,
              content,
              sequence: result.sequence,
              messageId: result.messageId,
              latencyMs: Date.now() - started,
            });
            options.onAcked?.(acked.length);
            done = true;
          } catch (error) {
            if (!isAppError(error) || !error.retryable) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        if (!done) unacked.push({ chatId, clientMessageId, content });
        if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }),
  );
  return { acked, unacked, retries };
}

/**
 * ARCHITECTURE.md §6, invariants 1–3 for every chat: sequences 1..n with no gap or duplicate, each
 * client_message_id stored once, every acknowledged send stored at the sequence its ack named, and a sync
 * from 0 (through `ingest`, i.e. the ring) returns exactly the stored messages in order.
 */
export async function expectInvariants(
  store: MessageStore,
  ingest: IngestApi,
  chats: readonly { chatId: ChatId; sender: UserId }[],
  acked: readonly Acked[],
): Promise<void> {
  for (const { chatId, sender } of chats) {
    const stored = await readAllMessages(store, chatId);
    expect(stored.map((m) => m.sequence)).toEqual(stored.map((_, i) => i + 1));
    const byClientId = new Map(stored.map((m) => [m.clientMessageId, m]));
    expect(byClientId.size, `duplicate client_message_id in ${chatId}`).toBe(stored.length);
    for (const ack of acked.filter((a) => a.chatId === chatId)) {
      const message = byClientId.get(ack.clientMessageId);
      expect(message, `acknowledged ${ack.clientMessageId} is missing`).toBeDefined();
      expect(message?.sequence).toBe(ack.sequence);
      expect(message?.messageId).toBe(ack.messageId);
      expect(message?.content).toBe(ack.content);
    }
    const synced: StoredMessage[] = [];
    for (;;) {
      const page = await ingest.sync({
        chatId,
        userId: sender,
        afterSequence: synced.at(-1)?.sequence ?? 0,
        limit: 500,
      });
      synced.push(...page.messages);
      if (!page.hasMore) break;
    }
    expect(synced).toEqual(stored);
  }
}

export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/**
 * sendLoad, with a promise that resolves once `count` sends have been acknowledged: a change (a node added,
 * drained or killed) is then made while the load is verifiably under way, not after a guessed delay.
 */
export function loadUnderWay(
  ingest: IngestApi,
  chats: readonly { chatId: ChatId; sender: UserId }[],
  perChat: number,
  count: number,
  options: { pauseMs?: number; attempts?: number; tag?: string } = {},
): { result: Promise<LoadResult>; underWay: Promise<void> } {
  let markUnderWay: () => void = () => {};
  const underWay = new Promise<void>((resolve) => {
    markUnderWay = resolve;
  });
  const result = sendLoad(ingest, chats, perChat, {
    ...options,
    onAcked: (total) => {
      if (total >= count) markUnderWay();
    },
  });
  // A load that fails before `count` acks must not leave the caller waiting.
  void result.then(markUnderWay, markUnderWay);
  return { result, underWay };
}
