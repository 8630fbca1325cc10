import { z } from "zod";
import { defaultConfig } from "../../../runtime/config.js";
import { DEVICE_ID_PATTERN } from "../../../runtime/device-id.js";
import { chatId, userId } from "../../schemas.js";
import { devOtpQuery, logoutBody, refreshBody, requestOtpBody, verifyOtpBody } from "../auth.controller.js";
import { deliveryBody, deliveryQuery, revokeAllQuery, sessionId } from "../sessions.controller.js";
import { lookupBody, patchMeBody } from "../users.controller.js";
import type { Operation } from "./operation.js";
import {
  ApiRoot,
  DeliveryState,
  envelope,
  Jwks,
  Login,
  PublicUser,
  Session,
  Tokens,
  User,
} from "./shapes.js";

/** The limits each route counts, in words, with the defaults of runtime/config.ts (each is an option). */
const config = defaultConfig();
export const LIMITS = {
  read: `${config.restReadsPerMinute} reads per minute per user (REST_READS_PER_MINUTE)`,
  write: `${config.restWritesPerMinute} writes per minute per user (REST_WRITES_PER_MINUTE)`,
  ip: `${config.restUnauthenticatedPerMinute} requests per minute per client IP (REST_UNAUTHENTICATED_PER_MINUTE)`,
  otpRequest:
    `${config.otpRequestsPerIp} per client IP and ${config.otpRequestsPerPhone} per phone number per ` +
    `${config.otpRequestWindowS / 60} minutes (OTP_REQUESTS_PER_IP, OTP_REQUESTS_PER_PHONE)`,
  otpVerify:
    `${config.restUnauthenticatedPerMinute} requests per minute per client IP, then ${config.otpVerifiesPerIp} ` +
    `attempts per client IP and ${config.otpVerifiesPerPhone} per phone number per ` +
    `${config.otpVerifyWindowS / 60} minutes, right or wrong (OTP_VERIFIES_PER_IP, OTP_VERIFIES_PER_PHONE)`,
} as const;

const deviceHeader = z.object({
  "x-device-id": z.string().regex(DEVICE_ID_PATTERN).meta({ description: "The client's device id." }),
});
const userParams = z.object({ userId });
const sessionParams = z.object({ sessionId });
const chatParams = z.object({ chatId });

export const ACCOUNT_OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/api/v1",
    operationId: "getApiRoot",
    tag: "api",
    summary: "The API's version and what a client may rely on",
    auth: "none",
    limit: LIMITS.ip,
    successes: [{ status: 200, description: "Version and capabilities.", schema: envelope(ApiRoot) }],
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApiDocument",
    tag: "api",
    summary: "This document",
    description: "This OpenAPI 3.1 document, as it is (not wrapped in `{data}`).",
    auth: "none",
    limit: LIMITS.ip,
    successes: [
      { status: 200, description: "The OpenAPI document.", schema: z.record(z.string(), z.unknown()) },
    ],
    errors: [],
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    operationId: "getJwks",
    tag: "api",
    summary: "The public keys that verify access tokens (RFC 7517)",
    description:
      "The public keys that verify access tokens (RFC 7517), for the platform's gateways and ingest nodes; " +
      "cacheable for 300 s. Not wrapped in `{data}`.",
    auth: "none",
    limit: undefined,
    successes: [{ status: 200, description: "The key set.", schema: Jwks }],
    errors: [],
  },
  {
    method: "post",
    path: "/api/v1/auth/request-otp",
    operationId: "requestOtp",
    tag: "auth",
    summary: "Send a one-time code by SMS",
    description:
      "Sends a 6-digit code, valid 5 minutes, to the phone; never tells whether the number is registered. " +
      "A pending code is sent again rather than replaced.",
    auth: "none",
    limit: LIMITS.otpRequest,
    body: { schema: requestOtpBody, required: true },
    successes: [
      {
        status: 200,
        description: "The code was handed to the SMS provider.",
        schema: envelope(
          z.strictObject({
            phone_number: z.string(),
            expires_at: z.iso.datetime(),
            retry_after_seconds: z.number().int(),
          }),
        ),
      },
    ],
    errors: [],
  },
  {
    method: "post",
    path: "/api/v1/auth/verify-otp",
    operationId: "verifyOtp",
    tag: "auth",
    summary: "Sign in with the code: a session and its tokens",
    description:
      "Exchanges the code for a session of this device and its tokens; a new phone number makes a new user " +
      "(201). `X-Device-ID` must equal `device_id`.",
    auth: "none",
    limit: LIMITS.otpVerify,
    headers: deviceHeader,
    body: { schema: verifyOtpBody, required: true },
    successes: [
      { status: 200, description: "Signed in as an existing user.", schema: envelope(Login) },
      { status: 201, description: "Signed in as a new user.", schema: envelope(Login) },
    ],
    errors: ["INVALID_OTP", "DEVICE_MISMATCH"],
  },
  {
    method: "post",
    path: "/api/v1/auth/refresh",
    operationId: "refreshTokens",
    tag: "auth",
    summary: "Rotate the refresh token and get a new access token",
    description:
      "Rotates the refresh token. `X-Device-ID` must be the session's device; the session's access token " +
      "may come along (expired ones are accepted). A refresh token presented again after its rotation " +
      "revokes the whole session.",
    auth: "optional-bearer",
    limit: LIMITS.ip,
    headers: deviceHeader,
    body: { schema: refreshBody, required: true },
    successes: [
      { status: 200, description: "New tokens.", schema: envelope(z.strictObject({ tokens: Tokens })) },
    ],
    errors: ["INVALID_REFRESH_TOKEN", "DEVICE_MISMATCH", "UNAUTHORIZED"],
  },
  {
    method: "post",
    path: "/api/v1/auth/logout",
    operationId: "logout",
    tag: "auth",
    summary: "End the caller's session",
    description: "Deletes the session of the access token and closes its WebSocket connections.",
    auth: "bearer",
    limit: LIMITS.write,
    body: { schema: logoutBody, required: false },
    successes: [{ status: 204, description: "The session is gone." }],
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/dev/otp",
    operationId: "getDevOtp",
    tag: "auth",
    summary: "Dev mode only: the last code sent to a phone",
    description:
      "Exists in dev mode only; elsewhere it answers 404 like any unknown path. Serves the last code the dev " +
      "SMS sender produced for the phone.",
    auth: "none",
    limit: LIMITS.ip,
    query: devOtpQuery,
    successes: [
      {
        status: 200,
        description: "The code.",
        schema: envelope(z.strictObject({ phone_number: z.string(), otp: z.string() })),
      },
    ],
    errors: ["NOT_FOUND"],
    extensions: { "x-dev-mode-only": true },
  },
  {
    method: "get",
    path: "/api/v1/users/me",
    operationId: "getMe",
    tag: "users",
    summary: "The caller's profile",
    auth: "bearer",
    limit: LIMITS.read,
    successes: [{ status: 200, description: "The profile.", schema: envelope(User) }],
    errors: ["USER_NOT_FOUND"],
  },
  {
    method: "patch",
    path: "/api/v1/users/me",
    operationId: "updateMe",
    tag: "users",
    summary: "Change the caller's display name",
    description: "`display_name`: 1-64 characters after trimming; no control or invisible format characters.",
    auth: "bearer",
    limit: LIMITS.write,
    body: { schema: patchMeBody, required: false },
    successes: [{ status: 200, description: "The profile.", schema: envelope(User) }],
    errors: ["USER_NOT_FOUND"],
  },
  {
    method: "post",
    path: "/api/v1/users/lookup",
    operationId: "lookupUsers",
    tag: "users",
    summary: "Find users by verified phone numbers",
    auth: "bearer",
    limit: `${LIMITS.write}; then 10 per minute and 100 per hour per user`,
    body: { schema: lookupBody, required: true },
    successes: [
      {
        status: 200,
        description: "Who was found, and the numbers that were not.",
        schema: envelope(
          z.strictObject({
            users: z.array(
              z.strictObject({
                phone_number: z.string(),
                user_id: userId,
                display_name: z.string().nullable(),
              }),
            ),
            not_found: z.array(z.string()),
          }),
        ),
      },
    ],
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/users/{userId}",
    operationId: "getUser",
    tag: "users",
    summary: "What anyone signed in may see of a user",
    auth: "bearer",
    limit: LIMITS.read,
    params: userParams,
    successes: [{ status: 200, description: "The user.", schema: envelope(PublicUser) }],
    errors: ["USER_NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/v1/sessions",
    operationId: "listSessions",
    tag: "sessions",
    summary: "The caller's sessions",
    auth: "bearer",
    limit: LIMITS.read,
    successes: [{ status: 200, description: "Every session.", schema: envelope(z.array(Session)) }],
    errors: [],
  },
  {
    method: "delete",
    path: "/api/v1/sessions/{sessionId}",
    operationId: "revokeSession",
    tag: "sessions",
    summary: "Revoke one of the caller's sessions",
    description: "Deletes the session and closes its WebSocket connections (`session_revoked`).",
    auth: "bearer",
    limit: LIMITS.write,
    params: sessionParams,
    successes: [{ status: 204, description: "The session is gone." }],
    errors: ["NOT_FOUND"],
  },
  {
    method: "delete",
    path: "/api/v1/sessions",
    operationId: "revokeAllSessions",
    tag: "sessions",
    summary: "Revoke all of the caller's sessions",
    description: "Every session but the current one, unless `include_current=true`.",
    auth: "bearer",
    limit: LIMITS.write,
    query: revokeAllQuery,
    successes: [
      {
        status: 200,
        description: "How many were revoked.",
        schema: envelope(z.strictObject({ revoked_count: z.number().int().min(0) })),
      },
    ],
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/delivery-state",
    operationId: "getDeliveryStates",
    tag: "delivery",
    summary: "How far the caller's devices acknowledged each chat",
    description: "`chat_ids`: comma-separated, at most 50; omitted = every chat of the caller.",
    auth: "bearer",
    limit: LIMITS.read,
    query: deliveryQuery,
    successes: [
      { status: 200, description: "One entry per chat.", schema: envelope(z.array(DeliveryState)) },
    ],
    errors: [],
  },
  {
    method: "patch",
    path: "/api/v1/delivery-state/{chatId}",
    operationId: "updateDeliveryState",
    tag: "delivery",
    summary: "Acknowledge a chat up to a sequence",
    description:
      "Cumulative, like the WebSocket `ack`: a value at or below the stored one changes nothing; one above " +
      "the chat's current sequence is 422.",
    auth: "bearer",
    limit: LIMITS.write,
    params: chatParams,
    body: { schema: deliveryBody, required: true },
    successes: [
      {
        status: 200,
        description: "The stored state.",
        schema: envelope(
          z.strictObject({
            chat_id: chatId,
            last_acked_sequence: z.number().int(),
            updated_at: z.iso.datetime(),
          }),
        ),
      },
    ],
    errors: ["UNPROCESSABLE_ENTITY", "NOT_A_MEMBER", "NOT_FOUND"],
  },
];
