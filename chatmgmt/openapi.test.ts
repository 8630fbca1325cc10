import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  login,
} from "../test/support/chatmgmt-fixture.js";
import { buildOpenApiDocument } from "./rest/openapi/document.js";
import { ErrorEnvelope, REST_ERROR_CODES } from "./rest/openapi/errors.js";
import * as Shapes from "./rest/openapi/shapes.js";

const ROOT = join(import.meta.dirname, "..");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** `METHOD /path` of every operation of an OpenAPI document, paths in express form (`/chats/:chatId`). */
function documentedRoutes(document: { paths?: Record<string, unknown> }): string[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => (item as Record<string, unknown>)[method] !== undefined).map(
      (method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`,
    ),
  );
}

describe("the OpenAPI document of REST /api/v1", () => {
  const document = buildOpenApiDocument();

  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("docs/api/openapi.json is the document the code gives (npm run openapi regenerates it)", () => {
    const file = JSON.parse(readFileSync(join(ROOT, "docs", "api", "openapi.json"), "utf8"));
    expect(file, "docs/api/openapi.json is stale: run npm run openapi").toEqual(
      JSON.parse(JSON.stringify(document)),
    );
  });

  it("every operation states its authentication, and every error response the envelope with its codes", () => {
    const json = JSON.parse(JSON.stringify(document));
    for (const route of documentedRoutes(document)) {
      const [method = "", path = ""] = route.split(" ");
      const operation = json.paths[path.replace(/:(\w+)/g, "{$1}")][method.toLowerCase()];
      expect(operation.security, route).toBeDefined();
      for (const [status, response] of Object.entries<{ $ref?: string }>(operation.responses)) {
        if (Number(status) < 400) continue;
        const name = response.$ref?.replace("#/components/responses/", "") ?? "";
        const codes = json.components.responses[name]?.content["application/json"].schema.allOf[1].properties
          .error.properties.code.enum as string[];
        expect(codes.length, `${route} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(REST_ERROR_CODES, `${route} ${status}`).toContain(code);
      }
    }
  });
});

/** The document against the app: the routes NestJS registered, and what they answer. */
describe.skipIf(!dynamoEndpoint)("GET /api/v1/openapi.json", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fixture = await chatMgmtFixture();
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());

  it("serves the document without a token, counted against the client's IP", async () => {
    const response = await call("GET", "/api/v1/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-ratelimit-limit")).toBe(
      String(fixture.config.restUnauthenticatedPerMinute),
    );
    expect(response.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  it("describes every route the app registered, and no route it does not serve", () => {
    const registered = fixture.management
      .httpRoutes()
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    // Sanity: the enumeration found the app's routes, not an empty or foreign list.
    expect(registered).toContain("GET /api/v1/chats/:chatId");
    expect(registered).toContain("GET /api/v1/openapi.json");
    expect(documentedRoutes(buildOpenApiDocument()).sort()).toEqual(registered);
  });

  it("real answers have the documented shapes", async () => {
    const parse = <S extends z.ZodType>(schema: S, value: unknown, what: string) => {
      const result = schema.safeParse(value);
      expect(result.error?.issues ?? [], what).toEqual([]);
    };
    const alice = await login(call);
    const bob = await login(call);
    const created = await call("POST", "/api/v1/chats", {
      token: alice.accessToken,
      body: { type: "group", name: "Documented", member_ids: [bob.userId] },
    });
    expect(created.status).toBe(201);
    parse(Shapes.envelope(Shapes.ChatDetail), created.body, "POST /chats");
    const chat = created.body.data.chat_id as string;
    const checks: Array<[string, z.ZodType]> = [
      ["/api/v1/users/me", Shapes.envelope(Shapes.User)],
      [`/api/v1/users/${bob.userId}`, Shapes.envelope(Shapes.PublicUser)],
      ["/api/v1/chats", Shapes.pagedEnvelope(Shapes.ChatListItem)],
      [`/api/v1/chats/${chat}`, Shapes.envelope(Shapes.ChatWithState)],
      [`/api/v1/chats/${chat}/messages`, Shapes.pagedEnvelope(Shapes.Message)],
      ["/api/v1/sessions", Shapes.envelope(Shapes.Session.array())],
      ["/api/v1/delivery-state", Shapes.envelope(Shapes.DeliveryState.array())],
      ["/api/v1", Shapes.envelope(Shapes.ApiRoot)],
      ["/.well-known/jwks.json", Shapes.Jwks],
    ];
    for (const [path, schema] of checks) {
      const response = await call("GET", path, { token: alice.accessToken });
      expect(response.status, path).toBe(200);
      parse(schema, response.body, path);
    }
    const missing = await call("GET", `/api/v1/chats/${chat}/messages/1`, { token: alice.accessToken });
    expect(missing.status).toBe(404);
    parse(ErrorEnvelope, missing.body, "404");
  });
});
