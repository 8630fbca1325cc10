import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { AppError, type PublicErrorCode } from "../../../runtime/errors.js";

/**
 * Which public codes (runtime/errors.ts) REST answers with. Typed over every public code, so a code added
 * there must be placed here: the WebSocket-only ones are false (spec §6 and spec §1 share the rest).
 */
const REST_ANSWERS: Readonly<Record<PublicErrorCode, boolean>> = {
  INVALID_MESSAGE: false,
  MESSAGE_TOO_LARGE: false,
  INVALID_CONTENT_TYPE: false,
  SLOW_CONSUMER: false,
  UNAUTHORIZED: true,
  FORBIDDEN: true,
  NOT_A_MEMBER: true,
  NOT_FOUND: true,
  RATE_LIMITED: true,
  INTERNAL_ERROR: true,
  SERVICE_UNAVAILABLE: true,
  BAD_REQUEST: true,
  VALIDATION_ERROR: true,
  INVALID_OPERATION: true,
  CHAT_FULL: true,
  DEVICE_MISMATCH: true,
  INVALID_OTP: true,
  INVALID_REFRESH_TOKEN: true,
  USER_NOT_FOUND: true,
  CONFLICT: true,
  IDEMPOTENCY_KEY_REUSED: true,
  ALREADY_A_MEMBER: true,
  PAYLOAD_TOO_LARGE: true,
  UNPROCESSABLE_ENTITY: true,
};

export type RestErrorCode = {
  [C in PublicErrorCode]: (typeof REST_ANSWERS)[C] extends false ? never : C;
}[PublicErrorCode];

export const REST_ERROR_CODES = (Object.keys(REST_ANSWERS) as PublicErrorCode[]).filter(
  (code) => REST_ANSWERS[code],
) as RestErrorCode[];

export const httpStatusOf = (code: RestErrorCode): number => new AppError(code, code).httpStatus;

const FieldErrors = z
  .strictObject({
    field_errors: z.array(
      z.strictObject({
        field: z.string().meta({ description: "Dotted path of the field; `body` for the body itself." }),
        code: z.string().meta({
          description: "REQUIRED, MIN_LENGTH, TOO_LONG, INVALID_TYPE, INVALID_FORMAT, INVALID_VALUE, ...",
          example: "REQUIRED",
        }),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: "ValidationErrorDetails", description: "`details` of VALIDATION_ERROR." });

const RateLimitedDetails = z
  .object({
    limit: z.number().int(),
    window_seconds: z.number().int(),
    retry_after_seconds: z.number().int().min(1),
  })
  .meta({ id: "RateLimitedDetails", description: "`details` of RATE_LIMITED." });

const PayloadTooLargeDetails = z
  .strictObject({ max_bytes: z.number().int(), received_bytes: z.number().int() })
  .meta({ id: "PayloadTooLargeDetails", description: "`details` of PAYLOAD_TOO_LARGE." });

export const ErrorEnvelope = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(REST_ERROR_CODES),
      message: z.string().meta({ description: "For people; never parse it." }),
      details: z
        .union([FieldErrors, RateLimitedDetails, PayloadTooLargeDetails, z.record(z.string(), z.unknown())])
        .optional(),
      request_id: z.string().meta({ description: "The response's `X-Request-ID`." }),
    }),
  })
  .meta({
    id: "ErrorEnvelope",
    description: "Every REST error (spec §1); the same shape as the WebSocket `error` frame's payload.",
  });

const integer = { type: "integer" } as const;

/** The response headers of spec §1, as reusable components. */
export function registerHeaders(registry: OpenAPIRegistry): void {
  registry.registerComponent("headers", "X-Request-ID", {
    description: "The request's `X-Request-ID` when it was sane (1-64 of `A-Za-z0-9_-`), else a new UUID.",
    schema: { type: "string" },
  });
  registry.registerComponent("headers", "X-RateLimit-Limit", {
    description: "Requests allowed in the window of the limit that applied to this request.",
    schema: integer,
  });
  registry.registerComponent("headers", "X-RateLimit-Remaining", {
    description: "Requests left in the current window.",
    schema: integer,
  });
  registry.registerComponent("headers", "X-RateLimit-Reset", {
    description: "When the current window ends, in Unix seconds.",
    schema: integer,
  });
  registry.registerComponent("headers", "Retry-After", {
    description: "Seconds to wait before retrying (every 429; `0` on 413).",
    schema: integer,
  });
  registry.registerComponent("headers", "X-Idempotent-Replay", {
    description: "`true` when the answer replays an earlier request with the same `Idempotency-Key`.",
    schema: { type: "string", enum: ["true"] },
  });
}

const header = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** The headers of one response: always the request id; the limit's headers where a limit was counted. */
export function responseHeaders(rateLimited: boolean, extra: readonly string[] = []) {
  const names = [
    "X-Request-ID",
    ...(rateLimited ? ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"] : []),
    ...extra,
  ];
  return Object.fromEntries(names.map((name) => [name, header(name)]));
}

/**
 * The error responses of one operation, one per HTTP status, each naming the codes it may carry: a response
 * component per set of codes (`#/components/responses/FORBIDDEN-NOT_A_MEMBER`), shared by the operations
 * that answer the same set. Every error is counted against a limit first (the error filter), so every error
 * carries the `X-RateLimit-*` headers.
 */
export function errorResponses(
  registry: OpenAPIRegistry,
  registered: Set<string>,
  codes: readonly RestErrorCode[],
): Record<string, { $ref: string }> {
  const byStatus = new Map<number, RestErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = httpStatusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, { $ref: string }> = {};
  for (const [status, unsorted] of [...byStatus].sort(([a], [b]) => a - b)) {
    const statusCodes = unsorted.sort();
    const name = statusCodes.join("-");
    if (!registered.has(name)) {
      registered.add(name);
      registry.registerComponent("responses", name, {
        description: `${status}: ${statusCodes.join(", ")}`,
        headers: responseHeaders(true, status === 429 || status === 413 ? ["Retry-After"] : []),
        content: {
          "application/json": {
            schema: {
              allOf: [
                { $ref: "#/components/schemas/ErrorEnvelope" },
                {
                  type: "object",
                  properties: { error: { type: "object", properties: { code: { enum: statusCodes } } } },
                },
              ],
            },
          },
        },
      });
    }
    responses[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  return responses;
}
