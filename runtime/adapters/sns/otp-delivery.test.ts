import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningPlatform, startPlatform } from "../../../app/platform.js";
import { engineEndpoint, uniqueName } from "../../../test/support/engines.js";
import { SystemClock } from "../../clock.js";
import { loadConfig } from "../../config.js";
import { createLogger } from "../../logger.js";
import { phoneHash } from "../../ports/user-store.js";
import { type SnsStandIn, startSnsStandIn } from "./sns-stand-in.js";

const dynamodb = engineEndpoint("dynamodb");
const newPhone = (): string => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/**
 * request-otp outside dev mode, codes sent by SNS (a stand-in): a code is kept only once the provider took
 * it, and each provider failure answers with the REST error spec §1 names for it.
 */
describe.skipIf(!dynamodb)("one-time codes delivered by SNS (production mode)", () => {
  let standIn: SnsStandIn;
  let platform: RunningPlatform;
  let dataDir: string;

  beforeAll(async () => {
    standIn = await startSnsStandIn();
    // The SDK's default credential chain reads these, as it reads a role's in production.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test-access-key");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test-secret-key");
    dataDir = mkdtempSync(join(tmpdir(), "otp-sns-"));
    platform = await startPlatform(
      loadConfig({
        env: {
          PORT: "0",
          HOST: "127.0.0.1",
          DEV_MODE: "false",
          DATA_DIR: dataDir,
          DYNAMODB_ENDPOINT: dynamodb ?? "",
          TABLE_PREFIX: uniqueName("otpsns_"),
          NODE_ID: uniqueName("otpsns-"),
          OTP_PEPPER: "a-pepper-of-real-strength-0123456789abcdef",
          SMS_SENDER: "sns",
          SNS_REGION: "eu-west-1",
          SNS_ENDPOINT: standIn.endpoint,
          SMS_SEND_TIMEOUT_MS: "2000",
          OTP_REQUESTS_PER_IP: "1000",
        },
      }),
      createLogger({ level: "silent" }),
      new SystemClock(),
    );
  });
  afterEach(() => standIn.answerWith({ kind: "ok" }));
  afterAll(async () => {
    await platform?.stop(0);
    await standIn?.close();
    vi.unstubAllEnvs();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  const requestOtp = (phone: string) =>
    fetch(`${platform.baseUrl}/api/v1/auth/request-otp`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phone_number: phone }),
    });
  const verifyOtp = (phone: string, otp: string) => {
    const device = uniqueName("device-");
    return fetch(`${platform.baseUrl}/api/v1/auth/verify-otp`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-device-id": device },
      body: JSON.stringify({ phone_number: phone, otp, device_id: device }),
    });
  };
  /** The code of the last Publish to `phone`, as the stand-in received it (delivered or not). */
  const lastCodeSentTo = (phone: string): string => {
    const publish = standIn.publishes.filter((entry) => entry.phoneNumber === phone).at(-1);
    const code = /\b(\d{6})\b/.exec(publish?.message ?? "")?.[1];
    if (code === undefined) throw new Error(`no code was published to ${phone}`);
    return code;
  };
  const storedOtp = (phone: string) => platform.adapters.chatManagement.otpStore.getOtp(phoneHash(phone));

  it("sends the code by SNS and keeps it, so the user logs in with what the SMS said", async () => {
    const phone = newPhone();
    expect((await requestOtp(phone)).status).toBe(200);
    expect((await verifyOtp(phone, lastCodeSentTo(phone))).status).toBe(201);
  });

  it("a throttled provider answers 429 RATE_LIMITED with Retry-After; the unsent code is not kept, the delivered one still works", async () => {
    const phone = newPhone();
    expect((await requestOtp(phone)).status).toBe(200);
    const delivered = lastCodeSentTo(phone);
    standIn.answerWith({ kind: "error", status: 400, code: "Throttling", message: "Rate exceeded" });
    const throttled = await requestOtp(phone);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await throttled.json()).error).toMatchObject({
      code: "RATE_LIMITED",
      details: { retry_after_seconds: 60, reason: "sms_provider_throttled" },
    });
    const unsent = lastCodeSentTo(phone);
    standIn.answerWith({ kind: "ok" });
    if (unsent !== delivered) {
      expect((await (await verifyOtp(phone, unsent)).json()).error.code).toBe("INVALID_OTP");
    }
    expect((await verifyOtp(phone, delivered)).status).toBe(201);
  });

  it("a number the provider refuses answers 400 VALIDATION_ERROR on phone_number and keeps no code", async () => {
    const phone = newPhone();
    standIn.answerWith({
      kind: "error",
      status: 400,
      code: "InvalidParameter",
      message: "Invalid parameter: PhoneNumber Reason: not a valid phone number",
    });
    const refused = await requestOtp(phone);
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { field_errors: [{ field: "phone_number" }] },
    });
    expect(await storedOtp(phone)).toBeUndefined();
  });

  it("a provider that is down answers 503 SERVICE_UNAVAILABLE and keeps no code the user could never receive", async () => {
    const phone = newPhone();
    standIn.answerWith({ kind: "error", status: 503, code: "ServiceUnavailable" });
    const down = await requestOtp(phone);
    expect(down.status).toBe(503);
    expect((await down.json()).error.code).toBe("SERVICE_UNAVAILABLE");
    expect(await storedOtp(phone)).toBeUndefined();
    const unsent = lastCodeSentTo(phone);
    standIn.answerWith({ kind: "ok" });
    expect((await (await verifyOtp(phone, unsent)).json()).error.code).toBe("INVALID_OTP");
  });
});
