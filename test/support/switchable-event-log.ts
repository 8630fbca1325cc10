import { AppError } from "../../runtime/errors.js";
import type {
  EventLog,
  EventRecord,
  PublishedRecord,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "../../runtime/ports/event-log.js";

/**
 * One process's view of a real event log whose producer can be cut: while `down`, every publish is refused
 * the way an unreachable broker refuses it, and nothing reaches the log. Lets a test give two ingest runtimes
 * on one broker different fates (one owner's producer failing while the other's works).
 */
export class SwitchableEventLog implements EventLog {
  down = false;
  /** Publish calls refused while down. */
  refused = 0;

  constructor(private readonly inner: EventLog) {}

  ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(topics);
  }

  partitionCount(topic: string): Promise<number> {
    return this.inner.partitionCount(topic);
  }

  async publish(topic: string, records: readonly EventRecord[]): Promise<PublishedRecord[]> {
    if (this.down) {
      this.refused++;
      throw new AppError("SERVICE_UNAVAILABLE", "the event log is unreachable (switched off by the test)");
    }
    return this.inner.publish(topic, records);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /** The shared log stays open: the fixture that made it closes it. */
  async close(): Promise<void> {}
}
