import type { Clock, TimerHandle } from "../../runtime/clock.js";

/**
 * Which chats to sync and when (protocol §10, RS-05): a queue of chats, at most `maxInFlight` requests in
 * flight and at most `perSecond` sent in any second (the gateway refuses more with RATE_LIMITED). A chat asked
 * for while its sync is in flight is synced once more afterwards (a push can arrive above a page being read).
 */
export class SyncScheduler {
  private readonly queue: Array<{ chatId: string; cursor: number | undefined }> = [];
  private readonly inFlight = new Set<string>();
  private readonly again = new Set<string>();
  private readonly retries = new Map<string, TimerHandle>();
  private sentAt: number[] = [];
  private wake: TimerHandle | undefined;
  private open = false;

  constructor(
    private readonly clock: Clock,
    private readonly options: { readonly maxInFlight: number; readonly perSecond: number },
    /** Sends one `sync_request` for the chat from `cursor` (undefined: the chat's stored last_acked_sequence). */
    private readonly send: (chatId: string, cursor: number | undefined) => void,
  ) {}

  /** A session can carry syncs (true) or not (false: everything queued or in flight is forgotten). */
  setOpen(open: boolean): void {
    this.open = open;
    if (!open) {
      this.queue.length = 0;
      this.inFlight.clear();
      this.again.clear();
      for (const timer of this.retries.values()) this.clock.clearTimeout(timer);
      this.retries.clear();
      if (this.wake !== undefined) this.clock.clearTimeout(this.wake);
      this.wake = undefined;
      this.sentAt = [];
    }
  }

  isBusy(chatId: string): boolean {
    return (
      this.inFlight.has(chatId) ||
      this.retries.has(chatId) ||
      this.queue.some((item) => item.chatId === chatId)
    );
  }

  request(chatId: string): void {
    if (this.inFlight.has(chatId)) this.again.add(chatId);
    else if (!this.isBusy(chatId)) this.queue.push({ chatId, cursor: undefined });
    this.pump();
  }

  /** The next page of a chat whose sync is in flight: it goes first and keeps its slot. */
  nextPage(chatId: string, cursor: number): void {
    this.inFlight.delete(chatId);
    this.queue.unshift({ chatId, cursor });
    this.pump();
  }

  /** The chat's sync finished; true when it was asked for again meanwhile (then it is queued again). */
  finished(chatId: string): boolean {
    this.inFlight.delete(chatId);
    const again = this.again.delete(chatId);
    if (again) this.queue.push({ chatId, cursor: undefined });
    this.pump();
    return again;
  }

  /** A refused sync (RATE_LIMITED, SERVICE_UNAVAILABLE, ...) is tried again after `delayMs`. */
  retryAfter(chatId: string, delayMs: number): void {
    this.inFlight.delete(chatId);
    this.again.delete(chatId);
    const previous = this.retries.get(chatId);
    if (previous !== undefined) this.clock.clearTimeout(previous);
    this.retries.set(
      chatId,
      this.clock.setTimeout(() => {
        this.retries.delete(chatId);
        this.request(chatId);
      }, delayMs),
    );
    this.pump();
  }

  /** The chat is no longer synced (dropped, or given up for this session). */
  abandon(chatId: string): void {
    this.inFlight.delete(chatId);
    this.again.delete(chatId);
    const timer = this.retries.get(chatId);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    this.retries.delete(chatId);
    this.pump();
  }

  private pump(): void {
    while (this.open && this.queue.length > 0 && this.inFlight.size < this.options.maxInFlight) {
      const now = this.clock.now();
      this.sentAt = this.sentAt.filter((at) => at > now - 1_000);
      const oldest = this.sentAt[0];
      if (this.sentAt.length >= this.options.perSecond && oldest !== undefined) {
        this.wake ??= this.clock.setTimeout(
          () => {
            this.wake = undefined;
            this.pump();
          },
          oldest + 1_000 - now,
        );
        return;
      }
      const item = this.queue.shift();
      if (item === undefined) return;
      this.inFlight.add(item.chatId);
      this.sentAt.push(now);
      this.send(item.chatId, item.cursor);
    }
  }
}
