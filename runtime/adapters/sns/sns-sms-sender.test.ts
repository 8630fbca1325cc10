import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors.js";
import { SnsSmsSender, THROTTLED_RETRY_AFTER_S } from "./sns-sms-sender.js";
import { type SnsStandIn, startSnsStandIn } from "./sns-stand-in.js";

const CREDENTIALS = { accessKeyId: "test-access-key", secretAccessKey: "test-secret-key" };
const PHONE = "+14155550123";
const CODE = "493817";

async function failureOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Everything of an error that could reach a log line: message, details and cause. */
const loggable = (error: AppError) =>
  JSON.stringify({ message: error.message, details: error.details, cause: error.cause });

describe("SNS SMS sender against a stand-in speaking the SNS Query API", () => {
  let standIn: SnsStandIn;
  let sender: SnsSmsSender;
  beforeAll(async () => {
    standIn = await startSnsStandIn();
    sender = new SnsSmsSender({
      region: "eu-west-1",
      endpoint: standIn.endpoint,
      timeoutMs: 500,
      credentials: CREDENTIALS,
    });
  });
  afterEach(() => {
    standIn.answerWith({ kind: "ok" });
    standIn.publishes.length = 0;
  });
  afterAll(async () => {
    sender?.close();
    await standIn?.close();
  });

  it("publishes one transactional SMS to the phone as a form-encoded Publish, the code in the message", async () => {
    await sender.sendOtp(PHONE, CODE);
    expect(standIn.publishes).toHaveLength(1);
    const [publish] = standIn.publishes;
    expect(publish?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(publish?.form).toMatchObject({
      Action: "Publish",
      Version: "2010-03-31",
      PhoneNumber: PHONE,
      "MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType",
      "MessageAttributes.entry.1.Value.DataType": "String",
      "MessageAttributes.entry.1.Value.StringValue": "Transactional",
    });
    expect(publish?.message).toContain(CODE);
  });

  it.each([
    ["Throttling", 400],
    ["Throttled", 429],
  ])("a %s answer (HTTP %i) is RATE_LIMITED with a retry time", async (code, status) => {
    standIn.answerWith({ kind: "error", status, code, message: "Rate exceeded" });
    const error = await failureOf(sender.sendOtp(PHONE, CODE));
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.details).toMatchObject({ retry_after_seconds: THROTTLED_RETRY_AFTER_S });
    expect(loggable(error)).not.toContain(CODE);
  });

  it("an InvalidParameter answer is VALIDATION_ERROR on phone_number", async () => {
    standIn.answerWith({
      kind: "error",
      status: 400,
      code: "InvalidParameter",
      message: `Invalid parameter: PhoneNumber Reason: ${PHONE} is not valid to publish to`,
    });
    const error = await failureOf(sender.sendOtp(PHONE, CODE));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.details).toMatchObject({ field_errors: [{ field: "phone_number" }] });
    // The provider's message quotes the phone number: it stays out of what is logged.
    expect(loggable(error)).not.toContain(PHONE);
    expect(loggable(error)).not.toContain(CODE);
  });

  it("a 5xx answer is SERVICE_UNAVAILABLE after exactly one attempt (an SMS is never sent twice)", async () => {
    standIn.answerWith({ kind: "error", status: 500, code: "InternalError" });
    const error = await failureOf(sender.sendOtp(PHONE, CODE));
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(standIn.publishes).toHaveLength(1);
  });

  it("a provider that does not answer within the timeout is SERVICE_UNAVAILABLE", async () => {
    standIn.answerWith({ kind: "hang" });
    const error = await failureOf(sender.sendOtp(PHONE, CODE));
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(standIn.publishes).toHaveLength(1);
  });

  it("an unreachable provider is SERVICE_UNAVAILABLE", async () => {
    const gone = await startSnsStandIn();
    await gone.close();
    const unreachable = new SnsSmsSender({
      region: "eu-west-1",
      endpoint: gone.endpoint,
      timeoutMs: 500,
      credentials: CREDENTIALS,
    });
    try {
      const error = await failureOf(unreachable.sendOtp(PHONE, CODE));
      expect(error.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      unreachable.close();
    }
  });
});
