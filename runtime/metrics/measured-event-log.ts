import type { Clock } from "../clock.js";
import type { EventLog } from "../ports/event-log.js";
import type { DurabilityRecorder } from "./recorders.js";

/**
 * The event log as the durability plane's outboxes see it, with every publish timed and its offsets told to
 * the recorder (`durability_kafka_produce_duration_seconds`; the in-process log's ends for consumer lag).
 */
export function measuredEventLog(log: EventLog, metrics: DurabilityRecorder, clock: Clock): EventLog {
  return {
    ensureTopics: (topics) => log.ensureTopics(topics),
    partitionCount: (topic) => log.partitionCount(topic),
    publish: async (topic, records) => {
      const startedAt = clock.now();
      try {
        const published = await log.publish(topic, records);
        metrics.produced((clock.now() - startedAt) / 1000, published);
        return published;
      } catch (error) {
        metrics.produced((clock.now() - startedAt) / 1000, undefined);
        throw error;
      }
    },
    subscribe: (options) => log.subscribe(options),
    ping: () => log.ping(),
    close: () => log.close(),
  };
}
