import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { API_VERSION } from "../api-root.controller.js";
import { ACCOUNT_OPERATIONS } from "./account-operations.js";
import { CHAT_OPERATIONS } from "./chat-operations.js";
import { ErrorEnvelope, registerHeaders } from "./errors.js";
import { type Operation, registerOperation } from "./operation.js";

/** Every REST operation chat management serves, in the order the document lists them. */
export const OPERATIONS: readonly Operation[] = [...ACCOUNT_OPERATIONS, ...CHAT_OPERATIONS];

const DESCRIPTION = `The REST API of chat management: sign-in with one-time codes, sessions, profiles, chats,
members, history and delivery state. Messages are sent and received over the WebSocket protocol
(\`/v1/ws\`, described by docs/api/asyncapi.yaml).

Every success is \`{data}\` (lists add \`pagination\`); every error is the \`ErrorEnvelope\`. Every
response carries \`X-Request-ID\` and, where a request limit was counted, \`X-RateLimit-Limit\`,
\`-Remaining\` and \`-Reset\`; every 429 carries \`Retry-After\`. Request bodies are JSON, at most 65536
bytes. The limits named in each operation are this version's defaults; each is an option of the deployment.`;

/**
 * The OpenAPI 3.1 document of REST `/api/v1`, generated from the zod schemas the controllers validate with
 * and the shapes their views are typed by. Served at `GET /api/v1/openapi.json`; `npm run api-docs` writes
 * the copy in docs/api/openapi.json.
 */
export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An access token from verify-otp or refresh (RS256, `/.well-known/jwks.json`).",
  });
  registerHeaders(registry);
  const responses = new Set<string>();
  for (const operation of OPERATIONS) registerOperation(registry, operation, responses);
  // The envelope is referenced from the error responses only (by `$ref`), so it is handed over by itself.
  const generator = new OpenApiGeneratorV31(
    [...registry.definitions, { type: "schema", schema: ErrorEnvelope }],
    {
      sortComponents: "alphabetically",
    },
  );
  return generator.generateDocument({
    openapi: "3.1.0",
    info: { title: "messaging-platform REST API", version: API_VERSION, description: DESCRIPTION },
    servers: [{ url: "/", description: "The public listener that served this document" }],
    tags: [
      { name: "api", description: "The API itself: version, this document, signing keys" },
      { name: "auth", description: "Phone sign-in, tokens and logout (spec §3)" },
      { name: "users", description: "Profiles and lookup" },
      { name: "sessions", description: "The caller's sessions (one per device)" },
      { name: "delivery", description: "How far the caller's devices acknowledged each chat" },
      { name: "chats", description: "Direct chats and groups" },
      { name: "members", description: "Membership, roles and mute" },
      { name: "messages", description: "History (sending is WebSocket-only)" },
    ],
  });
}

let built: ReturnType<typeof buildOpenApiDocument> | undefined;

/** The document, built once per process (it depends on nothing but the code). */
export function openApiDocument(): ReturnType<typeof buildOpenApiDocument> {
  built ??= buildOpenApiDocument();
  return built;
}
