import type { Config } from "../runtime/config.js";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "./limits.js";

/** The gateway's limits from the validated configuration (options of runtime/config.ts, "Connection plane"). */
export function gatewayLimitsFromConfig(
  config: Pick<
    Config,
    | "wsHeartbeatIntervalMs"
    | "wsIdleTimeoutMs"
    | "wsMaxFrameBytes"
    | "wsOutboundMaxMessages"
    | "wsOutboundMaxBytes"
    | "wsSlowConsumerGraceMs"
    | "wsSendPerChatPerSecond"
    | "wsSendPerChatBurst"
    | "wsSendPerConnectionPerSecond"
    | "wsAckPerConnectionPerSecond"
    | "wsAckPerConnectionBurst"
    | "wsMaxConnectionsPerUser"
    | "wsMaxConnectionsPerIp"
    | "routingRefreshMs"
    | "routingTtlMs"
  >,
): GatewayLimits {
  return {
    ...DEFAULT_GATEWAY_LIMITS,
    heartbeatIntervalMs: config.wsHeartbeatIntervalMs,
    idleTimeoutMs: config.wsIdleTimeoutMs,
    maxFrameBytes: config.wsMaxFrameBytes,
    outboundMaxMessages: config.wsOutboundMaxMessages,
    outboundMaxBytes: config.wsOutboundMaxBytes,
    slowConsumerGraceMs: config.wsSlowConsumerGraceMs,
    sendPerChatPerSecond: config.wsSendPerChatPerSecond,
    sendPerChatBurst: config.wsSendPerChatBurst,
    sendPerConnectionPerSecond: config.wsSendPerConnectionPerSecond,
    ackPerConnectionPerSecond: config.wsAckPerConnectionPerSecond,
    ackPerConnectionBurst: config.wsAckPerConnectionBurst,
    maxConnectionsPerUser: config.wsMaxConnectionsPerUser,
    maxConnectionsPerIp: config.wsMaxConnectionsPerIp,
    routingRefreshMs: config.routingRefreshMs,
    routingTtlMs: config.routingTtlMs,
  };
}
