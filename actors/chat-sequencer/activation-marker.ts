import type { Clock } from "../../runtime/clock.js";
import type { ChatId } from "../../runtime/ids.js";
import type { Logger } from "../../runtime/logger.js";
import type { ActivationHolder } from "./chat-sequencer-options.js";

/**
 * A sequencer's activation marker (invariant 5): stored before this holder writes any message, so that if the
 * process dies after writing, the chat's owner finds the chat and recovers what it acknowledged but never
 * published; removed once everything is published. Only this holder's own marker is ever touched.
 */
export class ActivationMarker {
  /** When this holder last wrote its marker. */
  private heldAtMs = 0;

  constructor(
    private readonly chatId: ChatId,
    private readonly holder: ActivationHolder | undefined,
    private readonly clock: Pick<Clock, "now">,
    private readonly logger: Logger,
  ) {}

  /** Writes (or refreshes) this holder's own marker; another owner's marker of the chat is never touched. */
  async hold(): Promise<void> {
    const holder = this.holder;
    if (holder === undefined) return;
    const now = this.clock.now();
    await holder.store.hold({
      chatId: this.chatId,
      nodeId: holder.nodeId,
      incarnation: holder.incarnation,
      activatedAt: now,
    });
    this.heldAtMs = now;
  }

  /**
   * Before a write: a marker older than half a lease may be evicted by an owner that decided this holder is
   * gone (it is cut off from the heartbeats, or was paused); refreshing it first keeps a trail in place for
   * every message this holder may fail to publish.
   */
  async keep(): Promise<void> {
    const holder = this.holder;
    if (holder === undefined) return;
    if (this.clock.now() - this.heldAtMs >= holder.leaseMs / 2) await this.hold();
  }

  /** Once everything is published nothing is left to recover; a failed release is only logged. */
  async release(): Promise<void> {
    const holder = this.holder;
    if (holder === undefined) return;
    await holder.store.release(this.chatId, holder).catch((error: unknown) =>
      // A marker left behind only costs the owner a spare activation later.
      this.logger.warn({ err: error, chat_id: this.chatId }, "releasing the activation failed"),
    );
  }
}
