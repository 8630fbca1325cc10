import type { Clock, TimerHandle } from "../../runtime/clock.js";
import type { ChatId, Sequence, UserId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";

/**
 * D16 (Acks) and rule 9: the write-behind of `delivery_state` for every sequencer of one ingest node.
 *
 * An ack is remembered per (chat, user) as the highest sequence acknowledged, and written with D8's
 * conditional write at the next flush round, at most `flushMs` after it arrived; the acks of a key that arrive
 * in between coalesce into one write of their maximum. Writes are bounded by `maxInFlight` for the whole node,
 * at most one per key at a time. A failed write keeps its entry pending (a later, higher ack merges with it)
 * and is retried after a backoff that doubles per consecutive failure of that key; failures are logged and
 * never thrown at the callers of `record`.
 *
 * What an Ack reply may report is `stored`: the highest sequence known to be stored, learned from this
 * node's writes or from a read the caller feeds in (`learnStored`), never merely what was acknowledged.
 */
export interface DeliveryWritesOptions {
  readonly store: Pick<MessageStore, "advanceDeliveryState">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long the first unwritten ack waits for others to coalesce with before the flush round that writes it. */
  readonly flushMs: number;
  /** Pause after a key's first failed write; it doubles with each further consecutive failure of that key … */
  readonly retryMs: number;
  /** … up to this. */
  readonly maxRetryMs: number;
  /** Writes in flight at once, across every chat of the node. */
  readonly maxInFlight: number;
}

interface Waiter {
  /** The ack the flush promised to store. */
  readonly target: number;
  settle(stored: boolean): void;
}

/** One (chat, user). Sequences are 0 where nothing is known. */
interface Entry {
  readonly userId: UserId;
  readonly chatId: ChatId;
  /** Highest sequence acknowledged, stored or not. */
  acked: number;
  /** Highest sequence known stored: the stored value is at least this. */
  stored: number;
  /** The sequence being written, while a write of this key is in flight. */
  writing: number | undefined;
  /** A failed key is not written by a flush round before this time (epoch ms). */
  retryAt: number;
  failures: number;
  /** Flushes waiting for this key to be stored. */
  waiters: Waiter[];
}

export class DeliveryWrites {
  private readonly chats = new Map<ChatId, Map<UserId, Entry>>();
  /** Entries whose ack is above what is known stored (in flight included). */
  private readonly unwritten = new Set<Entry>();
  /** Keys to write next, in order: the ones a flush call waits for first, then the ones a round found due. */
  private readonly urgent = new Set<Entry>();
  private readonly due = new Set<Entry>();
  private inFlight = 0;
  private timer: TimerHandle | undefined;
  private timerDueAt = 0;
  private stopped = false;

  constructor(private readonly options: DeliveryWritesOptions) {
    for (const name of ["flushMs", "retryMs", "maxRetryMs"] as const) {
      if (!(options[name] >= 0))
        throw new RangeError(`${name} must be a non-negative number of milliseconds`);
    }
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError("maxInFlight must be a positive integer");
    }
  }

  /**
   * A user acknowledged everything up to `sequence` in a chat (the caller has checked it against the chat's
   * tail, D8). Lower or equal to what is already acknowledged or stored: ignored.
   */
  record(userId: UserId, chatId: ChatId, sequence: Sequence): void {
    const entry = this.entryOf(userId, chatId);
    if (sequence <= entry.acked || sequence <= entry.stored) return;
    entry.acked = sequence;
    if (this.unwritten.has(entry)) return;
    this.unwritten.add(entry);
    entry.retryAt = 0;
    this.arm(this.options.clock.now() + this.options.flushMs);
  }

  /**
   * A stored value the caller read (`getDeliveryState`), so that an Ack reply can report it. An unwritten ack
   * at or below it needs no write any more.
   */
  learnStored(userId: UserId, chatId: ChatId, sequence: Sequence): void {
    this.raiseStored(this.entryOf(userId, chatId), sequence);
  }

  /** What an Ack reply may report (rule 9): the highest sequence known stored, undefined when none is known. */
  stored(userId: UserId, chatId: ChatId): Sequence | undefined {
    const stored = this.chats.get(chatId)?.get(userId)?.stored ?? 0;
    return stored > 0 ? (stored as Sequence) : undefined;
  }

  /** (chat, user) keys whose ack is not known stored yet, writes in flight included. */
  get pending(): number {
    return this.unwritten.size;
  }

  /**
   * Writes now (ahead of the flush round, ignoring a retry backoff) every unwritten ack of one chat; for the
   * passivation of its sequencer. Resolves true once every ack recorded before the call is stored, false as
   * soon as a write of one of them fails or the instance is stopped: the entry then stays pending and is
   * retried on the clock as usual, and the caller decides whether to wait for that. Never rejects.
   */
  flushChat(chatId: ChatId): Promise<boolean> {
    const entries = [...(this.chats.get(chatId)?.values() ?? [])].filter((entry) =>
      this.unwritten.has(entry),
    );
    return this.flush(entries);
  }

  /** `flushChat` for every chat of the node, for shutdown. */
  flushAll(): Promise<boolean> {
    return this.flush([...this.unwritten]);
  }

  /**
   * Forgets the stored positions of a passivated chat (memory would otherwise grow with every chat the node
   * ever served); keys with an unwritten ack are kept until it is written. A later Ack reply of this chat
   * reports a stored position again once it is written or learned.
   */
  forgetChat(chatId: ChatId): void {
    const users = this.chats.get(chatId);
    if (users === undefined) return;
    for (const [userId, entry] of users) {
      if (!this.unwritten.has(entry)) users.delete(userId);
    }
    if (users.size === 0) this.chats.delete(chatId);
  }

  /**
   * Stops the timers for good: nothing more is written (writes in flight still complete), and flushes still
   * waiting resolve false. Call `flushAll` first to store what is pending.
   */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.urgent.clear();
    this.due.clear();
    for (const entry of this.unwritten) this.settleWaiters(entry, false);
  }

  private entryOf(userId: UserId, chatId: ChatId): Entry {
    let users = this.chats.get(chatId);
    if (users === undefined) {
      users = new Map();
      this.chats.set(chatId, users);
    }
    let entry = users.get(userId);
    if (entry === undefined) {
      entry = {
        userId,
        chatId,
        acked: 0,
        stored: 0,
        writing: undefined,
        retryAt: 0,
        failures: 0,
        waiters: [],
      };
      users.set(userId, entry);
    }
    return entry;
  }

  private flush(entries: readonly Entry[]): Promise<boolean> {
    if (entries.length === 0) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    const stored = entries.map(
      (entry) =>
        new Promise<boolean>((settle) => {
          entry.waiters.push({ target: entry.acked, settle });
          this.due.delete(entry);
          this.urgent.add(entry);
        }),
    );
    this.pump();
    return Promise.all(stored).then((results) => results.every(Boolean));
  }

  /** Makes sure a flush round runs at `dueAt` or earlier. */
  private arm(dueAt: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) {
      if (this.timerDueAt <= dueAt) return;
      this.options.clock.clearTimeout(this.timer);
    }
    const now = this.options.clock.now();
    this.timerDueAt = dueAt;
    this.timer = this.options.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.round();
      },
      Math.max(0, dueAt - now),
    );
  }

  /** Queues every unwritten key not backing off; wakes again for the earliest one that is. */
  private round(): void {
    const now = this.options.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.unwritten) {
      // A key in flight is looked at again when its write completes.
      if (entry.writing !== undefined) continue;
      if (entry.retryAt <= now) {
        if (!this.urgent.has(entry)) this.due.add(entry);
      } else {
        next = Math.min(next, entry.retryAt);
      }
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.options.maxInFlight) {
      const entry = this.take();
      if (entry === undefined) return;
      if (entry.writing !== undefined || !this.unwritten.has(entry)) continue;
      this.write(entry);
    }
  }

  private take(): Entry | undefined {
    const queue = this.urgent.size > 0 ? this.urgent : this.due;
    const first = queue.values().next();
    if (first.done === true) return undefined;
    queue.delete(first.value);
    return first.value;
  }

  private write(entry: Entry): void {
    const sequence = entry.acked;
    entry.writing = sequence;
    this.inFlight++;
    new Promise<boolean>((resolve) => {
      // Inside the executor, so that a store throwing before it returns a promise counts as a failed write.
      resolve(this.options.store.advanceDeliveryState(entry.userId, entry.chatId, sequence as Sequence));
    })
      .then(
        () => this.written(entry, sequence),
        (error: unknown) => this.failed(entry, sequence, error),
      )
      .finally(() => {
        this.inFlight--;
        this.pump();
      });
  }

  /**
   * D8's write resolved: true means the stored value rose to `sequence`, false that it was already at or
   * above it (another owner wrote a later ack). Either way the stored value is at least `sequence`.
   */
  private written(entry: Entry, sequence: number): void {
    entry.writing = undefined;
    entry.failures = 0;
    entry.retryAt = 0;
    this.raiseStored(entry, sequence);
    if (!this.unwritten.has(entry)) return;
    // A higher ack arrived during the write.
    if (entry.waiters.length > 0) {
      this.urgent.add(entry);
    } else {
      this.arm(this.options.clock.now() + this.options.flushMs);
    }
  }

  private failed(entry: Entry, sequence: number, error: unknown): void {
    entry.writing = undefined;
    if (!this.unwritten.has(entry)) return;
    entry.failures++;
    const backoffMs = Math.min(this.options.retryMs * 2 ** (entry.failures - 1), this.options.maxRetryMs);
    entry.retryAt = this.options.clock.now() + backoffMs;
    this.arm(entry.retryAt);
    const fields = {
      err: error,
      chat_id: entry.chatId,
      user_id: entry.userId,
      sequence,
      failures: entry.failures,
      retry_in_ms: backoffMs,
    };
    // One warning per key and outage: while storage is down every pending key fails at every round.
    if (entry.failures === 1) this.options.logger.warn(fields, "delivery state write failed; retrying");
    else this.options.logger.debug(fields, "delivery state write failed again");
    this.settleWaiters(entry, false);
  }

  private raiseStored(entry: Entry, sequence: number): void {
    if (sequence > entry.stored) entry.stored = sequence;
    const waiting = entry.waiters;
    entry.waiters = waiting.filter((waiter) => waiter.target > entry.stored);
    for (const waiter of waiting) {
      if (waiter.target <= entry.stored) waiter.settle(true);
    }
    if (entry.acked <= entry.stored && this.unwritten.delete(entry)) {
      this.urgent.delete(entry);
      this.due.delete(entry);
      entry.failures = 0;
      entry.retryAt = 0;
    }
  }

  private settleWaiters(entry: Entry, stored: boolean): void {
    for (const waiter of entry.waiters.splice(0)) waiter.settle(stored);
  }
}
