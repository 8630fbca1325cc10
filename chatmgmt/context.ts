import type { Clock } from "../runtime/clock.js";
import type { Config } from "../runtime/config.js";
import type { CloseConnectionsRequest } from "../runtime/gateway-api.js";
import type { IdFactory } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { ChatStore } from "../runtime/ports/chat-store.js";
import type { EventLog } from "../runtime/ports/event-log.js";
import type { MessageStore } from "../runtime/ports/message-store.js";
import type { OtpStore } from "../runtime/ports/otp-store.js";
import type { RateLimitStore } from "../runtime/ports/rate-limit-store.js";
import type { RequestIdempotencyStore } from "../runtime/ports/request-idempotency-store.js";
import type { SessionStore } from "../runtime/ports/session-store.js";
import type { DevOtpInbox, SmsSender } from "../runtime/ports/sms-sender.js";
import type { UserStore } from "../runtime/ports/user-store.js";
import type { AccessTokens } from "./auth/access-tokens.js";
import type { SigningKey } from "./auth/signing-keys.js";

/** The stores chat management reads and writes, beside the chat and message stores of the platform. */
export interface ChatManagementStores {
  readonly userStore: UserStore;
  readonly sessionStore: SessionStore;
  readonly otpStore: OtpStore;
  readonly requestIdempotencyStore: RequestIdempotencyStore;
  readonly rateLimitStore: RateLimitStore;
}

/** What `createChatManagement` is built from. */
export interface ChatManagementDeps extends ChatManagementStores {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly chatStore: ChatStore;
  readonly messageStore: MessageStore;
  /** `chats.created` and `memberships.changed` go here (topics must exist: the platform ensures them). */
  readonly eventLog: EventLog;
  /** Closes a revoked session's WebSockets (GatewayApi.closeConnections of every gateway). */
  readonly closeConnections: CloseConnections;
  /** Default: the dev sender, which logs codes (and serves them at /api/v1/dev/otp in dev mode). */
  readonly smsSender?: SmsSender & Partial<DevOtpInbox>;
  /** A PEM private key; overrides JWT_PRIVATE_KEY_FILE (tests). */
  readonly signingKeyPem?: string;
}

/** Limits resolved from the configuration, in the units the code uses. */
export interface AuthLimits {
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlMs: number;
  readonly otpTtlMs: number;
  readonly otpMaxAttempts: number;
  readonly otpLockoutMs: number;
  readonly otpRequestsPerPhone: number;
  readonly otpRequestsPerIp: number;
  readonly otpRequestWindowMs: number;
  readonly maxSessionsPerUser: number;
  readonly maxGroupMembers: number;
  readonly restReadsPerMinute: number;
  readonly restWritesPerMinute: number;
  /** Per client IP, for requests no bearer token identifies (spec §1 "unauthenticated: generous"). */
  readonly restUnauthenticatedPerMinute: number;
}

/** Closes WebSockets of a user or session (GatewayApi.closeConnections of every gateway); the count closed. */
export type CloseConnections = (request: CloseConnectionsRequest) => Promise<number>;

/** The parts chat management is assembled from, each provided under its own token (./tokens.ts). */
export interface ChatManagementParts extends Omit<ChatManagementDeps, "signingKeyPem" | "smsSender"> {
  readonly smsSender: SmsSender & Partial<DevOtpInbox>;
  readonly signingKey: SigningKey;
  readonly accessTokens: AccessTokens;
  readonly otpPepper: string;
  readonly limits: AuthLimits;
}
