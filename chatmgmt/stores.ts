import { DynamoOtpStore } from "../runtime/adapters/dynamodb/otp-store.js";
import { DynamoRateLimitStore } from "../runtime/adapters/dynamodb/rate-limit-store.js";
import { DynamoRequestIdempotencyStore } from "../runtime/adapters/dynamodb/request-idempotency-store.js";
import { DynamoSessionStore } from "../runtime/adapters/dynamodb/session-store.js";
import type { DynamoStoreOptions } from "../runtime/adapters/dynamodb/store-options.js";
import { DynamoUserStore } from "../runtime/adapters/dynamodb/user-store.js";
import type { ChatManagementStores } from "./context.js";

/** Chat management's own stores on DynamoDB (or dynalite), for the platform's composition. */
export const dynamoChatManagementStores = (options: DynamoStoreOptions): ChatManagementStores => ({
  userStore: new DynamoUserStore(options),
  sessionStore: new DynamoSessionStore(options),
  otpStore: new DynamoOtpStore(options),
  requestIdempotencyStore: new DynamoRequestIdempotencyStore(options),
  rateLimitStore: new DynamoRateLimitStore(options),
});
