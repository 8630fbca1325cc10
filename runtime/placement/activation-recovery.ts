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
  /** Activates the chat's sequencer here, which republishes everything above `published_through`. */
  readonly wake: (chatId: ChatId) => Promise<unknown>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Time between two sweeps; a node leaving the ring also triggers one at once. */
  readonly intervalMs: number;
}

export interface SweepResult {
  readonly scanned: number;
  readonly recovered: number;
  readonly failed: number;
}

const PAGE = 200;
const CONCURRENCY = 16;

/**
 * Invariant 5 across crashes: a sequencer records that it is active, and removes the record only once its
 * outbox is empty. A record held by someone else (a node that died with `kill -9`, an earlier incarnation of
 * this node, a node the chat moved away from) for a chat this node now owns means messages may sit
 * unpublished in a quiet chat that nobody will activate; the sweep activates each such chat here, and the
 * activation republishes from `published_through` (duplicates are fine, consumers dedupe, D4).
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
    let after: string | undefined;
    do {
      const page = await store.scan(after === undefined ? { limit: PAGE } : { limit: PAGE, after });
      scanned += page.items.length;
      const orphans = page.items.filter((marker) => !this.isMine(marker) && owns(marker.chatId));
      for (let i = 0; i < orphans.length; i += CONCURRENCY) {
        const results = await Promise.allSettled(
          orphans.slice(i, i + CONCURRENCY).map((marker) => this.options.wake(marker.chatId)),
        );
        for (const [index, result] of results.entries()) {
          if (result.status === "fulfilled") recovered++;
          else {
            failed++;
            logger.warn(
              { err: result.reason, chat_id: orphans[i + index]?.chatId },
              "recovering a chat failed",
            );
          }
        }
      }
      after = page.next;
    } while (after !== undefined);
    if (recovered > 0 || failed > 0) {
      logger.info(
        { scanned, recovered, failed, node_id: holder.nodeId },
        "recovered chats left by other holders",
      );
    }
    return { scanned, recovered, failed };
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
