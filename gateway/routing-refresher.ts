import type { Clock, TimerHandle } from "../runtime/clock.js";
import type { Logger } from "../runtime/logger.js";
import type { ConnectionEntry, ConnectionRegistry } from "../runtime/ports/routing.js";

export interface RoutingRefresherOptions {
  readonly clock: Clock;
  readonly registry: ConnectionRegistry;
  readonly gatewayId: string;
  readonly refreshMs: number;
  readonly ttlMs: number;
  readonly logger: Logger;
  /** The entries of every established connection, as of `now`. */
  readonly entries: (now: number) => ConnectionEntry[];
}

/**
 * Keeps this gateway's routing entries alive on its own timer (D6: every 10 s, TTL 30 s), not per client
 * heartbeat. A refresh re-creates entries that expired or were lost (Redis restarted or flushed), so routing
 * comes back by itself within one period after Redis does; connections keep working meanwhile.
 */
export class RoutingRefresher {
  private timer: TimerHandle | undefined;
  private running = false;
  private healthy = true;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: RoutingRefresherOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Refreshes now (also what the timer runs); resolves when the registry answered. */
  refreshNow(): Promise<void> {
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Another call to the registry (a registration) answered or failed: the same health signal. */
  report(reachable: boolean): void {
    this.healthy = reachable;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.clock.setTimeout(() => {
      void this.refreshNow().finally(() => this.schedule());
    }, this.options.refreshMs);
  }

  private async refresh(): Promise<void> {
    const { clock, registry, gatewayId, ttlMs, logger } = this.options;
    const now = clock.now();
    const entries = this.options.entries(now);
    try {
      if (entries.length > 0) await registry.refresh(gatewayId, entries, ttlMs, now);
      if (!this.healthy) logger.info({ connections: entries.length }, "routing entries restored");
      this.healthy = true;
    } catch (error) {
      if (this.healthy) logger.warn({ err: error }, "routing refresh failed; retrying on the next period");
      this.healthy = false;
    }
  }
}
