import type { Clock, TimerHandle } from "../clock.js";
import type { ChatId } from "../ids.js";
import type { Logger } from "../logger.js";
import type { ActivationMarker, ActivationStore } from "../ports/activation-store.js";
import type { RingView } from "./ring-view.js";

export interface ActivationRecoveryOptions {
  readonly store: ActivationStore;
  readonly view: RingView;
  /** This process as a holder of activations. */
  readonly holder: { readonly nodeId: string; readonly incarnation: string };
  /** Whether this node owns the chat now (the embedded node owns every chat). */
  readonly owns: (chatId: ChatId) => boolean;
  /** Whether this process has a live sequencer of the chat (its own marker of such a chat is no orphan). */
  readonly isActive: (chatId: ChatId) => boolean;
  /** Activates the chat's sequencer here, which republishes everything above `published_through`. */
  readonly wake: (chatId: ChatId) => Promise<unknown>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Time between two sweeps; a node leaving the ring also triggers one at once. */
  readonly intervalMs: number;
  /**
   * A marker not refreshed for this long belongs to a holder that no longer writes (holders refresh before
   * writing once half of it has passed), so once its chat is woken here the marker may go. Clocks of the
   * nodes must agree to well within half of it.
   */
  readonly leaseMs: number;
}

export interface SweepResult {
  readonly scanned: number;
  readonly recovered: number;
  readonly failed: number;
  /** Markers of gone holders removed after their chats were woken here. */
  readonly evicted: number;
}

/** Four default sweep intervals: a holder gone that long is not coming back with a write in flight. */
export const DEFAULT_ACTIVATION_LEASE_MS = 120_000;

const PAGE = 200;

/** Incarnations are `<startedAt>-<random>` (app/roles/ingest-role.ts); undefined for any other shape. */
const startedAtOf = (incarnation: string): number | undefined => {
  const startedAt = Number(incarnation.split("-", 1)[0]);
  return Number.isSafeInteger(startedAt) && startedAt > 0 ? startedAt : undefined;
};
const CONCURRENCY = 16;

/**
 * Invariant 5 across crashes: a sequencer records that it is active, and removes the record only once its
 * outbox is empty. For a chat this node owns, a marker that is not the one of a live sequencer here means
 * messages may sit unpublished in a quiet chat that nobody will activate: one held by a node that died with
 * `kill -9`, by an earlier incarnation of this node, by a node the chat moved away from or that is cut off
 * and still serving, or this process's own marker of a sequencer that crashed (supervision discards it with
 * its outbox). The sweep activates each such chat here, and the activation republishes from
 * `published_through` through the stored tail (duplicates are fine, consumers dedupe, D4).
 *
 * Once the chat is awake here, another holder's marker is evicted when that holder is certainly gone: a
 * newer incarnation of its node is live (or it is an earlier incarnation of this one), or it has not
 * refreshed the marker for a whole lease. A holder that is cut off but alive keeps refreshing before it
 * writes, so its marker stays, and this owner keeps waking the chat at each sweep until that holder drains.
 */
export class ActivationRecovery {
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight: Promise<SweepResult> | undefined;
  private again = false;

  constructor(private readonly options: ActivationRecoveryOptions) {
    // A node that left (or restarted) may have left markers behind: look now, not at the next tick.
    options.view.onChange((next, previous) => {
      const lost = [...previous.live.values()].some(
        (node) => next.live.get(node.nodeId)?.startedAt !== node.startedAt,
      );
      if (lost && this.running) void this.sweep().catch(() => {});
    });
  }

  start(): void {
    this.running = true;
    void this.sweep().catch(() => {});
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    await this.inFlight?.catch(() => {});
  }

  /** One pass over every marker; a sweep asked for while one runs runs once more after it. */
  sweep(): Promise<SweepResult> {
    if (this.inFlight !== undefined) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.pass().finally(() => {
      this.inFlight = undefined;
      if (this.again && this.running) {
        this.again = false;
        void this.sweep().catch(() => {});
      }
    });
    return this.inFlight;
  }

  private async pass(): Promise<SweepResult> {
    const { store, holder, owns, logger } = this.options;
    let scanned = 0;
    let recovered = 0;
    let failed = 0;
    let evicted = 0;
    let after: string | undefined;
    do {
      const page = await store.scan(after === undefined ? { limit: PAGE } : { limit: PAGE, after });
      scanned += page.items.length;
      const orphans = page.items.filter((marker) => owns(marker.chatId) && !this.isLiveHere(marker));
      for (let i = 0; i < orphans.length; i += CONCURRENCY) {
        const batch = orphans.slice(i, i + CONCURRENCY);
        const results = await Promise.allSettled(batch.map((marker) => this.recover(marker)));
        for (const [index, result] of results.entries()) {
          if (result.status === "fulfilled") {
            recovered++;
            if (result.value) evicted++;
          } else {
            failed++;
            logger.warn({ err: result.reason, chat_id: batch[index]?.chatId }, "recovering a chat failed");
          }
        }
      }
      after = page.next;
    } while (after !== undefined);
    if (recovered > 0 || failed > 0) {
      logger.info(
        { scanned, recovered, failed, evicted, node_id: holder.nodeId },
        "recovered chats whose holders left messages to publish",
      );
    }
    return { scanned, recovered, failed, evicted };
  }

  /** Wakes the chat here; then removes the marker if its holder is certainly gone. True when it was removed. */
  private async recover(marker: ActivationMarker): Promise<boolean> {
    await this.options.wake(marker.chatId);
    if (this.isMine(marker) || !this.isGone(marker)) return false;
    return this.options.store.evict(marker);
  }

  /** This process's marker of a chat whose sequencer is live here: nothing to recover. */
  private isLiveHere(marker: ActivationMarker): boolean {
    return this.isMine(marker) && this.options.isActive(marker.chatId);
  }

  private isGone(marker: ActivationMarker): boolean {
    const { holder, view, clock, leaseMs } = this.options;
    // One process per node id at a time: another incarnation of the holder's node id means it has ended.
    if (marker.nodeId === holder.nodeId) return true;
    // A live node that started after the marker's holder did is a newer incarnation of it (a view that has not
    // seen a restart yet shows an older start, which proves nothing).
    const live = view.current().live.get(marker.nodeId);
    const heldSince = startedAtOf(marker.incarnation);
    if (live !== undefined && heldSince !== undefined && live.startedAt > heldSince) return true;
    return clock.now() - marker.activatedAt >= leaseMs;
  }

  private isMine(marker: ActivationMarker): boolean {
    return (
      marker.nodeId === this.options.holder.nodeId && marker.incarnation === this.options.holder.incarnation
    );
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, "activation sweep failed"))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.options.intervalMs);
  }
}
