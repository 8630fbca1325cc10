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
