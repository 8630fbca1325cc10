import type { Config } from "../../runtime/config.js";
import { FANOUT_GROUP, TOPICS } from "../../runtime/topics.js";
import { DEFAULT_PACING, type PacingOptions } from "./pacing.js";

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

export const FANOUT_DEFAULTS: FanoutOptions = {
  groupId: FANOUT_GROUP,
  topics: {
    messagesPersisted: TOPICS.messagesPersisted,
    membershipsChanged: TOPICS.membershipsChanged,
    chatsCreated: TOPICS.chatsCreated,
    deadLetters: TOPICS.deadLetters,
  },
  deliverTimeoutMs: 1_000,
  memberCacheTtlMs: 300_000,
  memberCacheMaxChats: 10_000,
  gatewayRefreshMs: 5_000,
  maxDeliveriesPerCall: 1_000,
  pacing: DEFAULT_PACING,
};

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
): Partial<FanoutOptions> {
  return {
    groupId: config.fanoutGroup,
    deliverTimeoutMs: config.fanoutDeliverTimeoutMs,
    memberCacheTtlMs: config.fanoutMemberCacheTtlMs,
    memberCacheMaxChats: config.fanoutMemberCacheMaxChats,
    gatewayRefreshMs: config.fanoutGatewayRefreshMs,
    maxDeliveriesPerCall: config.fanoutMaxDeliveriesPerCall,
    pacing: {
      ...DEFAULT_PACING,
      immediateMembers: config.fanoutPacingImmediateMembers,
      ratePerSec: config.fanoutPacingRatePerSec,
      largeChatMembers: config.fanoutPacingLargeChatMembers,
      largeRatePerSec: config.fanoutPacingLargeRatePerSec,
    },
  };
}
