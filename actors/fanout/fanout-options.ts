import { type Config, defaultConfig } from "../../runtime/config.js";
import { TOPICS } from "../../runtime/topics.js";
import { type PacingOptions, pacingFromConfig } from "./pacing.js";

export interface FanoutTopics {
  readonly messagesPersisted: string;
  readonly membershipsChanged: string;
  readonly chatsCreated: string;
  readonly deadLetters: string;
}

export interface FanoutOptions {
  /** The consumer group sharing `messages.persisted` among fanout workers (D10). */
  readonly groupId: string;
  /** Topic names (tests use names of their own on a shared broker). */
  readonly topics: FanoutTopics;
  /** Budget of one Deliver call; a slower gateway is skipped, never retried (its clients heal by sync). */
  readonly deliverTimeoutMs: number;
  /** Longest a cached member list is used without a membership event (spec: 300 s). */
  readonly memberCacheTtlMs: number;
  /** Chats whose members are cached (least recently used dropped first). */
  readonly memberCacheMaxChats: number;
  /** How often the live-gateway list is re-read from the node registry. */
  readonly gatewayRefreshMs: number;
  /** Most deliveries in one Deliver call; a batch for one gateway is split into calls sent one after another. */
  readonly maxDeliveriesPerCall: number;
  /** How large chats are paced (./pacing.ts). */
  readonly pacing: PacingOptions;
}

/** The worker options of a validated configuration (topic names stay those of D10). */
export function fanoutOptionsFromConfig(
  config: Pick<
    Config,
    | "fanoutGroup"
    | "fanoutDeliverTimeoutMs"
    | "fanoutMemberCacheTtlMs"
    | "fanoutMemberCacheMaxChats"
    | "fanoutGatewayRefreshMs"
    | "fanoutMaxDeliveriesPerCall"
    | "fanoutPacingImmediateMembers"
    | "fanoutPacingRatePerSec"
    | "fanoutPacingLargeChatMembers"
    | "fanoutPacingLargeRatePerSec"
  >,
): Omit<FanoutOptions, "topics"> {
  return {
    groupId: config.fanoutGroup,
    deliverTimeoutMs: config.fanoutDeliverTimeoutMs,
    memberCacheTtlMs: config.fanoutMemberCacheTtlMs,
    memberCacheMaxChats: config.fanoutMemberCacheMaxChats,
    gatewayRefreshMs: config.fanoutGatewayRefreshMs,
    maxDeliveriesPerCall: config.fanoutMaxDeliveriesPerCall,
    pacing: pacingFromConfig(config),
  };
}

/** The worker's options at the option table's defaults (runtime/config.ts) and D10's topic names. */
export const FANOUT_DEFAULTS: FanoutOptions = {
  topics: {
    messagesPersisted: TOPICS.messagesPersisted,
    membershipsChanged: TOPICS.membershipsChanged,
    chatsCreated: TOPICS.chatsCreated,
    deadLetters: TOPICS.deadLetters,
  },
  ...fanoutOptionsFromConfig(defaultConfig()),
};
