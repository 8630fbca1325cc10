import type { Clock, TimerHandle } from "../clock.js";
import type { ChatId } from "../ids.js";
import type { Logger } from "../logger.js";
import type { RingStore } from "../ports/ring-store.js";
import type { NodeInfo, NodeRegistry } from "../ports/routing.js";
import { PlacementRing } from "./hash-ring.js";
import { EMPTY_RING, ownersOf, type RingConfig, type RingMember } from "./ring-config.js";

/**
 * The effective ring at one moment (D5): the configured members that are active and live, hashed. Every
 * process computes owners from its own snapshot; processes may disagree for a refresh interval, which is
 * safe because DynamoDB's conditional writes stay the authority on sequences (D2).
 */
export class RingSnapshot {
  readonly owners: readonly RingMember[];
  /** Changes whenever the owners change: the configured version alone misses liveness changes. */
  readonly fingerprint: string;
  private readonly ring: PlacementRing;

  constructor(
    readonly config: RingConfig,
    /** Live ingest nodes by id, members of the ring or not. */
    readonly live: ReadonlyMap<string, NodeInfo>,
    readonly readAt: number,
  ) {
    this.owners = ownersOf(config, new Set(live.keys()));
    this.ring = new PlacementRing(this.owners);
    this.fingerprint = `${config.version}:${this.owners.map((m) => `${m.nodeId}/${m.weight}`).join(",")}`;
  }

  get version(): number {
    return this.config.version;
  }

  /** The id of the node that owns the chat, or undefined when no member is active and live. */
  ownerIdOf(chatId: ChatId | string): string | undefined {
    return this.ring.ownerOf(chatId);
  }

  /** The owning node with its address, or undefined. */
  ownerOf(chatId: ChatId | string): NodeInfo | undefined {
    const id = this.ring.ownerOf(chatId);
    return id === undefined ? undefined : this.live.get(id);
  }
}

export interface RingViewOptions {
  readonly store: RingStore;
  readonly nodes: NodeRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the view re-reads the configuration and the live nodes. */
  readonly refreshMs: number;
}

export type RingListener = (next: RingSnapshot, previous: RingSnapshot) => void;

/**
 * A process's view of the ring, refreshed on a timer and on demand (a caller told NOT_OWNER refreshes at
 * once). Refreshes are coalesced: callers arriving while one is in flight share it. A failed refresh keeps
 * the last snapshot (routing on a slightly old ring is safe, routing on none is not).
 */
export class RingView {
  private snapshot: RingSnapshot;
  private inFlight: Promise<RingSnapshot> | undefined;
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly listeners = new Set<RingListener>();

  constructor(private readonly options: RingViewOptions) {
    this.snapshot = new RingSnapshot(EMPTY_RING, new Map(), 0);
  }

  current(): RingSnapshot {
    return this.snapshot;
  }

  onChange(listener: RingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads once (failing loudly), then keeps refreshing every `refreshMs`. */
  async start(): Promise<RingSnapshot> {
    const first = await this.refresh();
    this.running = true;
    this.schedule();
    return first;
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A fresh snapshot; concurrent callers share one read. Rejects when the read fails. */
  refresh(): Promise<RingSnapshot> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Starts a refresh in the background unless one is in flight or the snapshot is younger than `minAgeMs`;
   * failures are logged. For a node that refuses a call: a caller with a newer ring is the first sign that
   * this node's ring is behind, and the caller's retry should find it current, not a refresh period later.
   */
  refreshIfOlderThan(minAgeMs: number): void {
    if (this.inFlight !== undefined) return;
    if (this.options.clock.now() - this.snapshot.readAt < minAgeMs) return;
    this.refresh().catch((error: unknown) =>
      this.options.logger.warn({ err: error }, "ring refresh failed; keeping the last ring"),
    );
  }

  private async read(): Promise<RingSnapshot> {
    const [config, live] = await Promise.all([
      this.options.store.read(),
      this.options.nodes.liveNodes("ingest"),
    ]);
    const next = new RingSnapshot(
      config,
      new Map(live.map((node) => [node.nodeId, node])),
      this.options.clock.now(),
    );
    const previous = this.snapshot;
    // A slower read must not replace a newer configuration.
    if (next.version < previous.version) return previous;
    this.snapshot = next;
    if (next.fingerprint !== previous.fingerprint || liveChanged(next, previous)) {
      for (const listener of this.listeners) {
        try {
          listener(next, previous);
        } catch (error) {
          this.options.logger.error({ err: error }, "a ring listener failed");
        }
      }
    }
    return next;
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.refresh()
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, "ring refresh failed; keeping the last ring"),
        )
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.options.refreshMs);
  }
}

/** Whether a live node appeared, left or moved to another address (routers must reconnect). */
function liveChanged(next: RingSnapshot, previous: RingSnapshot): boolean {
  if (next.live.size !== previous.live.size) return true;
  for (const [id, node] of next.live) {
    if (previous.live.get(id)?.address !== node.address) return true;
  }
  return false;
}
