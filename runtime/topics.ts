import type { TopicSpec } from "./ports/event-log.js";

/** Topic names of D10. */
export const TOPICS = {
  messagesPersisted: "messages.persisted",
  membershipsChanged: "memberships.changed",
  chatsCreated: "chats.created",
  deadLetters: "dead_letters",
} as const;

export const FANOUT_GROUP = "fanout-workers";

export interface PartitionCounts {
  readonly messagesPartitions: number;
  readonly lifecyclePartitions: number;
  readonly deadLetterPartitions: number;
}

export function topicSpecs(counts: PartitionCounts): TopicSpec[] {
  return [
    { name: TOPICS.messagesPersisted, partitions: counts.messagesPartitions },
    { name: TOPICS.membershipsChanged, partitions: counts.lifecyclePartitions },
    { name: TOPICS.chatsCreated, partitions: counts.lifecyclePartitions },
    { name: TOPICS.deadLetters, partitions: counts.deadLetterPartitions },
  ];
}
