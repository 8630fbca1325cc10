import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.js";
import { conditionalWrite, createDynamoClient, dynamoFailure } from "./client.js";

/**
 * How SDK failures are classified. Throttling and 5xx answers cannot be provoked on dynalite, so they are
 * injected here as the SDK shapes them (`name`, `$fault`, `$metadata.httpStatusCode`).
 */
describe("DynamoDB failure mapping", () => {
  const sdkError = (name: string, fault: "client" | "server", status: number) =>
    Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

  it.each([
    ["throttling", sdkError("ProvisionedThroughputExceededException", "client", 400)],
    ["request limits", sdkError("ThrottlingException", "client", 400)],
    ["a server fault", sdkError("InternalServerError", "server", 500)],
    ["any 5xx", sdkError("SomethingNew", "client", 503)],
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })],
    ["a reset connection", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
    ["a request timeout", Object.assign(new Error("timed out"), { name: "TimeoutError" })],
  ])("%s is a retryable SERVICE_UNAVAILABLE keeping its cause", (_, cause) => {
    const failure = dynamoFailure(cause, "PutItem messages");
    expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true, cause });
  });

  it.each([
    ["a validation error", sdkError("ValidationException", "client", 400)],
    ["a missing table", sdkError("ResourceNotFoundException", "client", 400)],
    ["a plain bug", new TypeError("x is undefined")],
  ])("%s is a non-public INTERNAL_ERROR keeping its cause", (_, cause) => {
    expect(dynamoFailure(cause, "GetItem chats")).toMatchObject({
      code: "INTERNAL_ERROR",
      public: false,
      cause,
    });
  });

  it("an AppError passes through unchanged", () => {
    const original = new AppError("NOT_FOUND", "gone");
    expect(dynamoFailure(original, "GetItem chats")).toBe(original);
  });

  it("a failed condition is an answer, not an error; other failures are mapped", async () => {
    const conditionFailed = sdkError("ConditionalCheckFailedException", "client", 400);
    expect(await conditionalWrite("PutItem", () => Promise.reject(conditionFailed))).toBeUndefined();
    expect(await conditionalWrite("PutItem", async () => ({ ok: true }))).toEqual({ ok: true });
    await expect(
      conditionalWrite("PutItem", () => Promise.reject(sdkError("ThrottlingException", "client", 400))),
    ).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });

  it("an endpoint that is not an http(s) URL is refused as CONFIG_INVALID", () => {
    for (const endpoint of ["localhost:8000", "127.0.0.1:8000", "ftp://127.0.0.1"]) {
      expect(() => createDynamoClient({ endpoint, region: "us-east-1" })).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID" }),
      );
    }
  });
});

/** The request path per endpoint: local engines get the cheap one, AWS keeps the SDK's. */
describe("DynamoDB client request path", () => {
  it("a local (http) endpoint gets requests without SigV4 or the SDK's User-Agent, in the shape dynalite accepts", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume().on("end", () => {
        response.setHeader("content-type", "application/x-amz-json-1.0");
        response.end(JSON.stringify({ TableNames: ["t"] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, region: "eu-west-1" });
    try {
      for (let i = 0; i < 2; i++)
        expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(["t"]);
    } finally {
      client.destroy();
      server.close();
    }
    expect(seen).toHaveLength(2);
    for (const headers of seen) {
      expect(headers["x-amz-target"]).toBe("DynamoDB_20120810.ListTables");
      expect(headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=\S+, Signature=\S+$/,
      );
      expect(headers.authorization).toContain("Signature=0");
      expect(headers["user-agent"] ?? "").not.toContain("aws-sdk");
    }
  });

  it.each([
    ["an https endpoint", "https://dynamodb.eu-west-1.amazonaws.com"],
    ["no endpoint (AWS's regional one)", undefined],
  ])("%s keeps the SDK's SigV4 signer, middleware and per-request resolution", (_, endpoint) => {
    const client = createDynamoClient({
      region: "eu-west-1",
      ...(endpoint === undefined ? {} : { endpoint }),
    });
    try {
      expect(client.config.cacheMiddleware).toBeFalsy();
      expect(client.config.httpAuthSchemes.map((scheme) => scheme.signer.constructor.name)).toEqual([
        "AwsSdkSigV4Signer",
      ]);
      const middleware = client.middlewareStack.identify().join("\n");
      for (const name of ["getUserAgentMiddleware", "recursionDetectionMiddleware", "loggerMiddleware"]) {
        expect(middleware).toContain(name);
      }
    } finally {
      client.destroy();
    }
  });
});
