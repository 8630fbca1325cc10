import type { AckBatcher } from "./ack-batcher.js";
import type { ClientReconnectReason } from "./client.machine.js";
import type { ClientEmitter } from "./client-events.js";
import type { ClientLogger, ClientTimings } from "./client-options.js";
import type { ClientStore, LocalMessage } from "./client-store.js";
import { syncErrorReaction } from "./error-reactions.js";
import type { SyncScheduler } from "./sync-scheduler.js";
import type { ErrorPayload, SyncResponse, WireMessage } from "./wire.js";

export interface InboxDeps {
  readonly store: ClientStore;
  readonly syncs: SyncScheduler;
  readonly acks: AckBatcher;
  readonly events: ClientEmitter;
  readonly logger: ClientLogger;
  readonly timings: ClientTimings;
  readonly backoff: (attempt: number) => number;
  /** Every chat of the connect-time sync is done (RS-01): the session may become Ready. */
  readonly onInitialSyncDone: () => void;
  readonly reconnect: (reason: ClientReconnectReason) => void;
}

/**
 * The receiving side: pushes and sync pages are stored before anything else (AK-03), deduplicated by
 * `(chat_id, sequence)` (MR-02), kept in sequence order whatever their arrival order (MR-01, MR-04); a
 * message above the cursor is kept and shown at once (MR-03) and starts a sync of the gap (MR-05). Cursors
 * move only over what is held or vouched for by a sync page, so a cumulative ack never skips (AK-01, D3).
 */
export class Inbox {
  private initial = new Set<string>();
  private readonly syncFailures = new Map<string, { attempts: number; internalErrors: number }>();

  constructor(private readonly deps: InboxDeps) {}

  /** RS-01/RS-02: every active chat is synced after (re)connecting, from its stored cursor. False: none. */
  beginSession(): boolean {
    this.deps.syncs.setOpen(true);
    this.initial = new Set(this.deps.store.activeChats());
    this.syncFailures.clear();
    for (const chatId of this.initial) this.deps.syncs.request(chatId);
    return this.initial.size > 0;
  }

  /** A chat joined while connected (a send to a new chat, `track`). */
  syncNow(chatId: string): void {
    this.deps.syncs.request(chatId);
  }

  push(message: WireMessage): void {
    const { store, events, acks } = this.deps;
    if (store.has(message.chat_id, message.sequence)) {
      events.emit("duplicate", { chatId: message.chat_id, sequence: message.sequence });
      return;
    }
    store.addMessage({ ...message });
    const moved = store.advance(message.chat_id);
    store.save();
    events.emit("message", { ...message });
    acks.add(moved);
    this.checkGap(message.chat_id);
  }

  /** An own message, acknowledged by the server: stored like a received one. */
  own(message: LocalMessage): void {
    const { store, acks } = this.deps;
    store.addMessage(message);
    const moved = store.advance(message.chat_id);
    store.save();
    acks.add(moved);
    this.checkGap(message.chat_id);
  }

  page(chatId: string, page: SyncResponse): void {
    const { store, events, acks, syncs } = this.deps;
    const fresh: LocalMessage[] = [];
    for (const item of page.messages) {
      const message: LocalMessage = { chat_id: chatId, ...item };
      if (!store.has(chatId, item.sequence) && store.addMessage(message)) fresh.push(message);
    }
    // D3: a page vouches for every sequence up to its last message (any missing one was abandoned).
    const moved = store.advance(chatId, page.messages.at(-1)?.sequence ?? 0);
    store.save();
    for (const message of fresh) events.emit("message", message);
    this.syncFailures.delete(chatId);
    if (page.has_more) {
      acks.add(moved);
      const next = page.next_sequence ?? (page.messages.at(-1)?.sequence ?? store.lastAcked(chatId)) + 1;
      syncs.nextPage(chatId, next - 1);
      return;
    }
    // Protocol §9: ack the top sequence after a sync.
    acks.flushNow();
    events.emit("synced", { chatId, lastAckedSequence: store.lastAcked(chatId) });
    const again = syncs.finished(chatId);
    if (!again && moved > 0 && store.highestHeld(chatId) > store.lastAcked(chatId)) syncs.request(chatId);
    this.initialDone(chatId);
  }

  /** EH-01 for a sync: see error-reactions.ts. */
  syncFailed(chatId: string, error: ErrorPayload): void {
    const failures = this.syncFailures.get(chatId) ?? { attempts: 0, internalErrors: 0 };
    failures.attempts++;
    if (error.code === "INTERNAL_ERROR") failures.internalErrors++;
    this.syncFailures.set(chatId, failures);
    const reaction = syncErrorReaction(error.code, error, {
      ...failures,
      internalErrorTries: this.deps.timings.internalErrorTries,
      backoff: this.deps.backoff,
    });
    switch (reaction.kind) {
      case "reconnect":
        this.deps.reconnect(reaction.reason);
        return;
      case "retry":
        this.deps.syncs.retryAfter(chatId, reaction.delayMs);
        return;
      case "drop_chat":
        this.dropChat(chatId, error.code);
        this.deps.syncs.abandon(chatId);
        this.initialDone(chatId);
        return;
      case "give_up":
        this.deps.logger.error(
          { chat_id: chatId, code: error.code },
          "sync refused; tried again on the next connection",
        );
        this.syncFailures.delete(chatId);
        this.deps.syncs.abandon(chatId);
        this.initialDone(chatId);
        return;
    }
  }

  dropChat(chatId: string, reason: string): void {
    this.deps.store.drop(chatId, reason);
    this.deps.store.save();
    this.deps.events.emit("chat_dropped", { chatId, reason });
  }

  private checkGap(chatId: string): void {
    const { store, syncs, events } = this.deps;
    const cursor = store.lastAcked(chatId);
    const seen = store.highestHeld(chatId);
    if (seen <= cursor) return;
    if (!syncs.isBusy(chatId)) events.emit("gap", { chatId, after: cursor, seen });
    syncs.request(chatId);
  }

  private initialDone(chatId: string): void {
    if (!this.initial.delete(chatId) || this.initial.size > 0) return;
    this.deps.onInitialSyncDone();
  }
}
