import { describe, expect, it } from "vitest";
import { connectionReaction, sendErrorReaction, syncErrorReaction } from "./error-reactions.js";
import { ERROR_CODES } from "./wire.js";

const attempts = (over: Partial<{ attempts: number; internalErrors: number }> = {}) => ({
  attempts: 1,
  internalErrors: 0,
  internalErrorTries: 3,
  backoff: (attempt: number) => attempt * 1_000,
  ...over,
});
const error = (code: string, details?: Record<string, unknown>) => ({
  code,
  message: code,
  ...(details ? { details } : {}),
});

/** EH-01: the reaction to every error code of protocol §6, for a send and for a sync. */
describe("error reactions (EH-01)", () => {
  it("every documented code has a decided reaction for a send", () => {
    const table = Object.fromEntries(
      ERROR_CODES.map((code) => [
        code,
        sendErrorReaction(code, error(code), attempts({ internalErrors: 1 })).kind,
      ]),
    );
    expect(table).toEqual({
      INVALID_MESSAGE: "fail",
      UNAUTHORIZED: "reconnect",
      FORBIDDEN: "fail",
      NOT_A_MEMBER: "fail_and_drop_chat",
      NOT_FOUND: "fail_and_drop_chat",
      RATE_LIMITED: "retry",
      MESSAGE_TOO_LARGE: "fail",
      INVALID_CONTENT_TYPE: "fail",
      INTERNAL_ERROR: "retry",
      SERVICE_UNAVAILABLE: "retry",
      SLOW_CONSUMER: "reconnect",
    });
  });

  it("every documented code has a decided reaction for a sync", () => {
    const table = Object.fromEntries(
      ERROR_CODES.map((code) => [
        code,
        syncErrorReaction(code, error(code), attempts({ internalErrors: 1 })).kind,
      ]),
    );
    expect(table).toEqual({
      INVALID_MESSAGE: "give_up",
      UNAUTHORIZED: "reconnect",
      FORBIDDEN: "drop_chat",
      NOT_A_MEMBER: "drop_chat",
      NOT_FOUND: "drop_chat",
      RATE_LIMITED: "retry",
      MESSAGE_TOO_LARGE: "give_up",
      INVALID_CONTENT_TYPE: "give_up",
      INTERNAL_ERROR: "retry",
      SERVICE_UNAVAILABLE: "retry",
      SLOW_CONSUMER: "reconnect",
    });
  });

  it("RS-03, UNAUTHORIZED: SLOW_CONSUMER and UNAUTHORIZED replace the connection", () => {
    expect(connectionReaction("SLOW_CONSUMER")).toBe("slow_consumer");
    expect(connectionReaction("UNAUTHORIZED")).toBe("unauthorized");
    expect(connectionReaction("RATE_LIMITED")).toBeUndefined();
  });

  it("RATE_LIMITED waits retry_after_seconds when given, else backs off", () => {
    expect(
      sendErrorReaction("RATE_LIMITED", error("RATE_LIMITED", { retry_after_seconds: 2 }), attempts()),
    ).toEqual({
      kind: "retry",
      delayMs: 2_000,
    });
    expect(sendErrorReaction("RATE_LIMITED", error("RATE_LIMITED"), attempts({ attempts: 3 }))).toEqual({
      kind: "retry",
      delayMs: 3_000,
    });
  });

  it("INTERNAL_ERROR: retried with backoff, then surfaced on the third", () => {
    expect(
      sendErrorReaction("INTERNAL_ERROR", error("INTERNAL_ERROR"), attempts({ internalErrors: 2 })).kind,
    ).toBe("retry");
    expect(
      sendErrorReaction("INTERNAL_ERROR", error("INTERNAL_ERROR"), attempts({ internalErrors: 3 })).kind,
    ).toBe("fail");
    expect(
      syncErrorReaction("INTERNAL_ERROR", error("INTERNAL_ERROR"), attempts({ internalErrors: 3 })).kind,
    ).toBe("give_up");
  });

  it("EH-04: SERVICE_UNAVAILABLE is retried however many times it comes", () => {
    expect(
      sendErrorReaction("SERVICE_UNAVAILABLE", error("SERVICE_UNAVAILABLE"), attempts({ attempts: 50 })),
    ).toEqual({
      kind: "retry",
      delayMs: 50_000,
    });
  });

  it("an undocumented code is handled like INTERNAL_ERROR", () => {
    expect(sendErrorReaction("TEAPOT", error("TEAPOT"), attempts({ internalErrors: 1 })).kind).toBe("retry");
    expect(sendErrorReaction("TEAPOT", error("TEAPOT"), attempts({ internalErrors: 3 })).kind).toBe("fail");
  });
});
