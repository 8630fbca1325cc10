import { AppError } from "../errors.js";
import type { ChatId } from "../ids.js";
import type { Logger } from "../logger.js";
import type { RingSnapshot, RingView } from "./ring-view.js";

/**
 * A refused call refreshes the ring only if the last read is at least this old: enough to answer a caller's
 * retry (its first backoff is 25 ms) while a flood of misrouted calls costs at most 20 ring reads a second.
 */
export const REFUSAL_REFRESH_MIN_AGE_MS = 50;

/** What the ingest node's actor host offers the handoff: its active actors, and passivation of one. */
export interface HandoffHost {
  activeKeys(): string[];
  /** Finishes the actor's mailbox, drains its outbox and passivates it. */
  passivate(key: string, reason: "ownership_lost"): Promise<void>;
}

export interface PlacementStatus {
  /** The ring version whose handoffs this node has finished (its moved actors are passivated). */
  readonly ringVersion: number;
  readonly activeActors: number;
  /** Actors still finishing their mailbox and outbox after losing their chat. */
  readonly handoffsPending: number;
}

/**
 * An ingest node's side of D5. Calls for chats this node does not own (by its current ring) are refused
 * with NOT_OWNER and the ring version, so the caller refreshes and goes to the owner. When the ring changes,
 * the actors of chats that moved away are told to finish their mailbox, publish their outbox and passivate;
 * the new owner activates from DynamoDB. Both owners may run for a moment: D2's conditional writes make
 * that safe, so nothing here waits for the other node.
 */
export class ChatOwnership {
  private appliedVersion = 0;
  private pending = 0;
  private latest = 0;

  constructor(
    private readonly nodeId: string,
    private readonly view: RingView,
    private readonly host: HandoffHost,
    private readonly logger: Logger,
    /** Told when a handoff finished, e.g. to announce the progress with a heartbeat at once. */
    private readonly onApplied: () => void = () => {},
  ) {
    view.onChange((next) => {
      void this.handOff(next);
    });
  }

  /**
   * Throws NOT_OWNER unless this node owns the chat in its current ring. A refusal also refreshes this
   * node's ring (at most every REFUSAL_REFRESH_MIN_AGE_MS): when a node joins, callers often learn the new
   * ring before the new owner does, and without this it would refuse them until its next periodic refresh.
   */
  check(chatId: ChatId): void {
    const snapshot = this.view.current();
    const owner = snapshot.ownerIdOf(chatId);
    if (owner === this.nodeId) return;
    this.view.refreshIfOlderThan(REFUSAL_REFRESH_MIN_AGE_MS);
    throw new AppError("NOT_OWNER", `node ${this.nodeId} does not own chat ${chatId}`, {
      details: { ring_version: snapshot.version, ...(owner === undefined ? {} : { owner }) },
      public: false,
    });
  }

  status(): PlacementStatus {
    return {
      ringVersion: this.appliedVersion,
      activeActors: this.host.activeKeys().length,
      handoffsPending: this.pending,
    };
  }

  /** Passivates every active actor whose chat this node no longer owns; safe to call at any time. */
  handOff(snapshot: RingSnapshot = this.view.current()): Promise<void> {
    const generation = ++this.latest;
    const moved = this.host.activeKeys().filter((key) => snapshot.ownerIdOf(key) !== this.nodeId);
    if (moved.length > 0) {
      this.logger.info(
        { ring_version: snapshot.version, moved: moved.length },
        "ring changed: handing off chats this node no longer owns",
      );
    }
    this.pending += moved.length;
    return Promise.all(
      moved.map((key) =>
        this.host
          .passivate(key, "ownership_lost")
          .catch((error: unknown) => this.logger.warn({ err: error, chat_id: key }, "handoff drain failed"))
          .finally(() => {
            this.pending--;
          }),
      ),
    ).then(() => {
      if (generation !== this.latest) return;
      this.appliedVersion = Math.max(this.appliedVersion, snapshot.version);
      this.onApplied();
    });
  }
}
