import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../runtime/logger.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { productionSurroundings, spawnPlatform, waitForStart } from "./platform-process.js";

const dynamodb = engineEndpoint("dynamodb");
const newPhone = (): string => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
/** The code as a token of its own: six digits inside a longer number or id are not it. */
const asToken = (code: string) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`);
const codeIn = (message: string | undefined): string => /\b(\d{6})\b/.exec(message ?? "")?.[1] ?? "none";

describe("the logger redacts one-time codes wherever a log call puts them", () => {
  it("under every code-like field name, at any depth a request body reaches", () => {
    let written = "";
    const logger = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk, _encoding, done) {
          written += String(chunk);
          done();
        },
      }),
    });
    logger.info(
      {
        otp: "111111",
        body: { otp: "222222" },
        req: { body: { otp: "333333" } },
        otp_code: "444444",
        sms: { verification_code: "555555" },
        input: { Message: "Your verification code is 666666" },
      },
      "a careless log line",
    );
    for (const code of ["111111", "222222", "333333", "444444", "555555", "666666"]) {
      expect(written).not.toMatch(asToken(code));
    }
    expect(written).toContain("[redacted]");
  });
});

describe.skipIf(!dynamodb)("one-time codes never reach the logs of a production-mode process", () => {
  const around = productionSurroundings("secrets-logs-");

  it("requesting, failing to deliver, mistyping and verifying codes over REST logs none of them, at trace level", async () => {
    const prefix = uniqueName("secrets_");
    const platform = spawnPlatform({
      HOST: "127.0.0.1",
      PORT: "0",
      DEV_MODE: "false",
      LOG_LEVEL: "trace",
      DATA_DIR: around.dataDir,
      DYNAMODB_ENDPOINT: dynamodb ?? "",
      TABLE_PREFIX: prefix,
      NODE_ID: prefix.replaceAll("_", "-"),
      SHUTDOWN_GRACE_MS: "1000",
      ADMIN_TOKEN: "3f9c2a7be41d08c65f1e9a2b7d4c3e80a1f6b92c",
      OTP_PEPPER: "b8e27d41c09f3a65e2d18b7c4f90a3e61d2c7b58",
      JWT_PRIVATE_KEY_FILE: join(around.dataDir, "jwt.pem"),
      INTERNAL_GRPC_TOKEN: "c41e9b27d8f03a65b2e1d7c9f0a8e3b6d5c2a1e4",
      SMS_SENDER: "sns",
      SNS_REGION: "eu-west-1",
      SNS_ENDPOINT: around.sns.endpoint,
      AWS_ACCESS_KEY_ID: "test-access-key",
      AWS_SECRET_ACCESS_KEY: "test-secret-key",
    });
    const codes: string[] = [];
    const statuses: number[] = [];
    try {
      const { url } = await waitForStart(platform);
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${url}/api/v1/auth/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        });
      const phone = newPhone();
      const device = uniqueName("device-");
      const verify = async (otp: string) =>
        statuses.push(
          (
            await post(
              "verify-otp",
              { phone_number: phone, otp, device_id: device },
              { "x-device-id": device },
            )
          ).status,
        );
      const request = async () => statuses.push((await post("request-otp", { phone_number: phone })).status);
      const sent = () => around.sns.publishes.filter((publish) => publish.phoneNumber === phone);

      // A delivered code, mistyped once, then used.
      await request();
      const delivered = codeIn(sent().at(-1)?.message);
      await verify(delivered === "000000" ? "000001" : "000000");
      // A code the provider refused to deliver: logged as a delivery failure, without the code.
      around.sns.answerWith({ kind: "error", status: 500, code: "InternalError" });
      await request();
      around.sns.answerWith({ kind: "ok" });
      await verify(delivered);
      codes.push(
        ...sent().flatMap((publish) => (codeIn(publish.message) === "none" ? [] : [codeIn(publish.message)])),
      );
    } finally {
      await platform.stop();
    }
    const output = `${platform.stdout()}\n${platform.stderr()}`;
    // No field of any line holds a six-digit code, whatever its name.
    expect(output).not.toMatch(/"[A-Za-z_]*(code|otp)[A-Za-z_]*":"\d{6}"/i);
    for (const code of codes) expect(output).not.toMatch(asToken(code));
    // The scan is not vacuous: both codes were sent, and the flow was logged, the failed delivery included.
    expect(codes).toHaveLength(2);
    expect(platform.logLines().some((line) => line.msg === "auth.otp_delivery_failed")).toBe(true);
    expect(statuses).toEqual([200, 401, 503, 201]);
  });
});
