import type { OpenAPIRegistry, ResponseConfig } from "@asteasolutions/zod-to-openapi";
import type { ZodObject, ZodType } from "zod";
import { errorResponses, type RestErrorCode, responseHeaders } from "./errors.js";

/** How an operation is authenticated (the security scheme of document.ts). */
export type Auth = "bearer" | "optional-bearer" | "none";

export interface Success {
  readonly status: number;
  readonly description: string;
  /** The body; none for 204. */
  readonly schema?: ZodType;
  readonly headers?: readonly string[];
}

/** One REST operation, in the terms the controllers use: their zod schemas and the codes they throw. */
export interface Operation {
  readonly method: "get" | "post" | "patch" | "delete";
  /** OpenAPI form (`/api/v1/chats/{chatId}`); the Nest route is `/api/v1/chats/:chatId`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: Auth;
  /** The request limit counted before the handler runs, in words; undefined: none (no `X-RateLimit-*`). */
  readonly limit: string | undefined;
  readonly params?: ZodObject;
  readonly query?: ZodObject;
  readonly headers?: ZodObject;
  readonly body?: { readonly schema: ZodType; readonly required: boolean };
  readonly successes: readonly Success[];
  /** The codes this operation's handler may answer; those every operation may answer are added. */
  readonly errors: readonly RestErrorCode[];
  readonly extensions?: Readonly<Record<`x-${string}`, unknown>>;
}

/** The security requirement of each kind of authentication (document.ts registers `bearerAuth`). */
const SECURITY: Readonly<Record<Auth, Array<Record<string, string[]>>>> = {
  bearer: [{ bearerAuth: [] }],
  "optional-bearer": [{}, { bearerAuth: [] }],
  none: [],
};

/** Codes any operation may answer, whatever its handler does. */
function commonErrors(operation: Operation): RestErrorCode[] {
  const codes: RestErrorCode[] = ["INTERNAL_ERROR", "SERVICE_UNAVAILABLE"];
  // An error is counted against the client's IP when no limit counted it before (error.filter.ts), so any
  // answer may become a 429 once that limit is spent.
  codes.push("RATE_LIMITED");
  if (operation.auth === "bearer") codes.push("UNAUTHORIZED");
  if (operation.body !== undefined) codes.push("BAD_REQUEST", "PAYLOAD_TOO_LARGE", "VALIDATION_ERROR");
  if (operation.params !== undefined || operation.query !== undefined || operation.headers !== undefined) {
    codes.push("VALIDATION_ERROR");
  }
  return codes;
}

export function registerOperation(
  registry: OpenAPIRegistry,
  operation: Operation,
  registeredResponses: Set<string>,
): void {
  const rateLimited = operation.limit !== undefined;
  const responses: Record<string, ResponseConfig | { $ref: string }> = {};
  for (const success of operation.successes) {
    responses[String(success.status)] = {
      description: success.description,
      headers: responseHeaders(rateLimited, success.headers),
      ...(success.schema === undefined
        ? {}
        : { content: { "application/json": { schema: success.schema } } }),
    };
  }
  Object.assign(
    responses,
    errorResponses(registry, registeredResponses, [...operation.errors, ...commonErrors(operation)]),
  );
  const limit = operation.limit === undefined ? "" : `\n\nRate limit: ${operation.limit}.`;
  registry.registerPath({
    method: operation.method,
    path: operation.path,
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: `${operation.description ?? operation.summary}${limit}`,
    security: SECURITY[operation.auth],
    request: {
      ...(operation.params === undefined ? {} : { params: operation.params }),
      ...(operation.query === undefined ? {} : { query: operation.query }),
      ...(operation.headers === undefined ? {} : { headers: operation.headers }),
      ...(operation.body === undefined
        ? {}
        : {
            body: {
              required: operation.body.required,
              content: { "application/json": { schema: operation.body.schema } },
            },
          }),
    },
    responses,
    ...operation.extensions,
  });
}
