import { Inject, Injectable } from "@nestjs/common";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../runtime/logger.js";
import type { EventLog, EventRecord } from "../../runtime/ports/event-log.js";
import { CLOCK, EVENT_LOG, LOGGER } from "../tokens.js";

/** Spec §5: three retries after the first attempt, then log and give up (never roll back the write). */
const RETRY_DELAYS_MS = [100, 500, 2000] as const;

/**
 * Publishes lifecycle records (`chats.created`, `memberships.changed`) after their database writes have
 * committed. Each runs detached from its request (the write already succeeded); `close()` waits for them.
 * Records of one chat are chained, so they reach the log in the order they were raised (ChatCreated before
 * the chat's MembershipChanged).
 */
@Injectable()
export class LifecyclePublisher {
  /** Publications still running. */
  private readonly pending = new Set<Promise<unknown>>();
  /** The last publication queued per chat. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Set by `close()`: publications stop retrying (each makes its current attempt, then gives up). */
  private closing = false;
  /** Retry pauses in progress, which `close()` cuts short. */
  private readonly wake = new Set<() => void>();

  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  publish(topic: string, record: EventRecord): void {
    const previous = this.chains.get(record.key) ?? Promise.resolve();
    const run: Promise<void> = previous.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.eventLog.publish(topic, [record]);
          return;
        } catch (error) {
          const delay = RETRY_DELAYS_MS[attempt];
          if (delay === undefined || this.closing) {
            this.logger.error({ err: error, topic, key: record.key }, "lifecycle_event_publish_failed");
            return;
          }
          await this.pause(delay);
        }
      }
    });
    this.chains.set(record.key, run);
    this.pending.add(run);
    void run.finally(() => {
      this.pending.delete(run);
      if (this.chains.get(record.key) === run) this.chains.delete(record.key);
    });
  }

  /** Resolves once every publication raised so far (and any raised meanwhile) is in the log or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops retrying and waits for the publications still running. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.wake) wake();
    await Promise.allSettled([...this.pending]);
  }

  /** A retry pause on the injected clock that `close()` cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.wake.delete(done);
        this.clock.clearTimeout(timer);
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
