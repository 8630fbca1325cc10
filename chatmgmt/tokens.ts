/**
 * The injection tokens of chat management's parts, one per dependency, so that each handler, guard and
 * controller names exactly what it uses. Classes (AccessTokens and the services) are their own tokens.
 * Injected explicitly (`@Inject(TOKEN)`) because tsx and vitest emit no decorator metadata.
 */

/** The validated configuration (runtime/config.ts `Config`). */
export const CONFIG = Symbol("Config");
/** `Logger`. */
export const LOGGER = Symbol("Logger");
/** The injected `Clock`: every time chat management reads or waits on. */
export const CLOCK = Symbol("Clock");
/** `IdFactory`. */
export const IDS = Symbol("IdFactory");
/** `ChatStore`, shared with the platform. */
export const CHAT_STORE = Symbol("ChatStore");
/** `MessageStore`, shared with the platform (history and delivery states). */
export const MESSAGE_STORE = Symbol("MessageStore");
/** `UserStore`. */
export const USER_STORE = Symbol("UserStore");
/** `SessionStore`. */
export const SESSION_STORE = Symbol("SessionStore");
/** `OtpStore`. */
export const OTP_STORE = Symbol("OtpStore");
/** `RequestIdempotencyStore`. */
export const REQUEST_IDEMPOTENCY_STORE = Symbol("RequestIdempotencyStore");
/** `RateLimitStore`. */
export const RATE_LIMIT_STORE = Symbol("RateLimitStore");
/** `EventLog`: `chats.created` and `memberships.changed` are published to it. */
export const EVENT_LOG = Symbol("EventLog");
/** `CloseConnections`: closes a revoked session's WebSockets on every gateway. */
export const CLOSE_CONNECTIONS = Symbol("CloseConnections");
/** `SmsSender & Partial<DevOtpInbox>`: who delivers one-time codes. */
export const SMS_SENDER = Symbol("SmsSender");
/** `SigningKey` of access tokens. */
export const SIGNING_KEY = Symbol("SigningKey");
/** `string`: the HMAC key one-time codes are stored under. */
export const OTP_PEPPER = Symbol("OtpPepper");
/** `AuthLimits`: the configured limits in the units the code uses. */
export const AUTH_LIMITS = Symbol("AuthLimits");
