import { describe, expect, it } from "vitest";
import { AppError, PROTOCOL_ERROR_CODES, publicView, toAppError } from "./errors.js";

describe("AppError", () => {
  it("carries the protocol's HTTP status and retry rule for each code", () => {
    expect(new AppError("MESSAGE_TOO_LARGE", "too big").httpStatus).toBe(413);
    expect(new AppError("NOT_A_MEMBER", "no").httpStatus).toBe(403);
    expect(new AppError("SERVICE_UNAVAILABLE", "down").retryable).toBe(true);
    expect(new AppError("INVALID_MESSAGE", "bad").retryable).toBe(false);
    expect(PROTOCOL_ERROR_CODES).toHaveLength(11);
  });

  it("never shows a client the message or cause of an unknown failure", () => {
    const error = toAppError(new Error("ECONNREFUSED 10.0.0.7:8000"));
    expect(error.code).toBe("INTERNAL_ERROR");
    expect(error.cause).toBeInstanceOf(Error);
    expect(publicView(error)).toEqual({ code: "INTERNAL_ERROR", message: "internal error" });
  });

  it("maps internal codes to a protocol code before they reach a client", () => {
    expect(publicView(new AppError("NOT_OWNER", "ring v7")).code).toBe("SERVICE_UNAVAILABLE");
    expect(
      publicView(new AppError("INVALID_MESSAGE", "content missing", { details: { field: "content" } })),
    ).toEqual({
      code: "INVALID_MESSAGE",
      message: "content missing",
      details: { field: "content" },
    });
  });
});
