import { DynamoOtpStore } from "../runtime/adapters/dynamodb/otp-store.js";
import { DynamoRateLimitStore } from "../runtime/adapters/dynamodb/rate-limit-store.js";
import { DynamoRequestIdempotencyStore } from "../runtime/adapters/dynamodb/request-idempotency-store.js";
import { DynamoSessionStore } from "../runtime/adapters/dynamodb/session-store.js";
import type { DynamoStoreOptions } from "../runtime/adapters/dynamodb/store-options.js";
import { DynamoUserStore } from "../runtime/adapters/dynamodb/user-store.js";
import { MemoryOtpStore } from "../runtime/adapters/memory/otp-store.js";
import { MemoryRateLimitStore } from "../runtime/adapters/memory/rate-limit-store.js";
import { MemoryRequestIdempotencyStore } from "../runtime/adapters/memory/request-idempotency-store.js";
import { MemorySessionStore } from "../runtime/adapters/memory/session-store.js";
import { MemoryUserStore } from "../runtime/adapters/memory/user-store.js";
import type { Clock } from "../runtime/clock.js";
import type { ChatManagementStores } from "./context.js";

/** Chat management's own stores on DynamoDB (or dynalite), for the platform's composition. */
export const dynamoChatManagementStores = (options: DynamoStoreOptions): ChatManagementStores => ({
  userStore: new DynamoUserStore(options),
  sessionStore: new DynamoSessionStore(options),
  otpStore: new DynamoOtpStore(options),
  requestIdempotencyStore: new DynamoRequestIdempotencyStore(options),
  rateLimitStore: new DynamoRateLimitStore(options),
});

/** The same stores in memory, for unit tests. */
export const memoryChatManagementStores = (clock: Pick<Clock, "now">): ChatManagementStores => ({
  userStore: new MemoryUserStore({ clock }),
  sessionStore: new MemorySessionStore({ clock }),
  otpStore: new MemoryOtpStore(),
  requestIdempotencyStore: new MemoryRequestIdempotencyStore({ clock }),
  rateLimitStore: new MemoryRateLimitStore({ clock }),
});
