import type { Clock, TimerHandle } from "./clock.js";
import type { Logger } from "./logger.js";
import type { NodeInfo, NodeRegistry } from "./ports/routing.js";

/**
 * Keeps a node announced as live: a heartbeat every `ttlMs / 3`, so two beats may fail before peers consider
 * the node gone. A failed beat is logged and retried on the next tick; `stop` leaves the registry at once so
 * a graceful shutdown does not wait for the TTL.
 */
export class NodeHeartbeat {
  private timer: TimerHandle | undefined;
  private running = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly registry: NodeRegistry,
    /** The nodes to announce, read at every beat so that changing facts (placement progress) travel along. */
    private readonly nodes: readonly NodeInfo[] | (() => readonly NodeInfo[]),
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  get intervalMs(): number {
    return Math.max(1, Math.floor(this.ttlMs / 3));
  }

  /** Announces every node once (failing loudly: a node that cannot announce itself should not start). */
  async start(): Promise<void> {
    await this.beat();
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.inFlight;
    await Promise.allSettled(this.current().map((node) => this.registry.leave(node.nodeId)));
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.inFlight = this.beat()
        .catch((error: unknown) => this.logger.warn({ err: error }, "node heartbeat failed"))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.intervalMs);
  }

  private async beat(): Promise<void> {
    await Promise.all(this.current().map((node) => this.registry.heartbeat(node, this.ttlMs)));
  }

  /** Beats now rather than at the next tick (e.g. once a handoff finished, so operators see it at once). */
  async beatNow(): Promise<void> {
    if (!this.running) return;
    await this.beat().catch((error: unknown) => this.logger.warn({ err: error }, "node heartbeat failed"));
  }

  private current(): readonly NodeInfo[] {
    return typeof this.nodes === "function" ? this.nodes() : this.nodes;
  }
}
