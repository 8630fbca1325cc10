import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { productionProblems } from "../../app/production-requirements.js";
import { loadConfig } from "../../runtime/config.js";
import { AppError } from "../../runtime/errors.js";
import { DEV_ADMIN_TOKEN } from "../../runtime/placement/placement.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import {
  dataDirs,
  type PlatformProcess,
  productionSurroundings,
  spawnPlatform,
  waitForStart,
} from "./platform-process.js";

const dynamodb = engineEndpoint("dynamodb");

const STRONG_ADMIN_TOKEN = "3f9c2a7be41d08c65f1e9a2b7d4c3e80a1f6b92c";
const STRONG_PEPPER = "b8e27d41c09f3a65e2d18b7c4f90a3e61d2c7b58";
/** Every production setting of the embedded role, strong. */
const PRODUCTION_SETTINGS = {
  ADMIN_TOKEN: STRONG_ADMIN_TOKEN,
  OTP_PEPPER: STRONG_PEPPER,
  JWT_PRIVATE_KEY_FILE: "/var/lib/messaging/jwt.pem",
  SMS_SENDER: "sns",
} as const;

function configError(env: Record<string, string>): AppError {
  try {
    loadConfig({ env });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`configuration ${JSON.stringify(env)} was accepted`);
}

async function exitCodeWithin(
  platform: PlatformProcess,
  timeoutMs: number,
): Promise<number | null | "running"> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    platform.exited,
    new Promise<"running">((resolve) => {
      timer = setTimeout(() => resolve("running"), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

describe("dev mode is decided by where the process listens", () => {
  it("is on by default for the embedded role on loopback listeners", () => {
    for (const host of ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"]) {
      expect(loadConfig({ env: { HOST: host } }).devMode, host).toBe(true);
    }
  });

  it("is off by default as soon as any listener is not loopback (HOST=auto included)", () => {
    for (const host of ["0.0.0.0", "::", "auto", "10.1.2.3", "chatmgmt.internal"]) {
      expect(loadConfig({ env: { HOST: host } }).devMode, host).toBe(false);
    }
    expect(loadConfig({ env: { HOST: "127.0.0.1", INTERNAL_HOST: "0.0.0.0" } }).devMode).toBe(false);
  });

  it("DEV_MODE=true on a public address without the override is refused, naming the override", () => {
    const error = configError({ HOST: "0.0.0.0", DEV_MODE: "true" });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS");
  });

  it("the override alone does not turn dev mode on; with DEV_MODE=true it does", () => {
    expect(loadConfig({ env: { HOST: "0.0.0.0", ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS: "true" } }).devMode).toBe(
      false,
    );
    expect(
      loadConfig({ env: { HOST: "0.0.0.0", DEV_MODE: "true", ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS: "true" } })
        .devMode,
    ).toBe(true);
  });

  it("the dev SMS sender, which exposes codes, is refused outside dev mode", () => {
    const error = configError({ HOST: "0.0.0.0", SMS_SENDER: "dev" });
    expect(error.message).toContain("SMS_SENDER");
  });
});

describe("production requirements per role", () => {
  const problemsOf = (env: Record<string, string>) =>
    productionProblems(loadConfig({ env: { HOST: "0.0.0.0", ...env } })).map((line) => line.split(":")[0]);

  it("the embedded role and chat management need the admin token, the pepper, the signing key and SNS", () => {
    for (const role of ["all", "chatmgmt"]) {
      expect(problemsOf({ ROLE: role })).toEqual(
        expect.arrayContaining(["ADMIN_TOKEN", "OTP_PEPPER", "JWT_PRIVATE_KEY_FILE", "SMS_SENDER"]),
      );
    }
  });

  it("roles without chat management need no pepper, signing key or SMS sender", () => {
    for (const role of ["gateway", "ingest", "fanout"]) {
      const problems = problemsOf({ ROLE: role });
      expect(problems, role).toContain("ADMIN_TOKEN");
      expect(problems, role).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/OTP_PEPPER|JWT_PRIVATE_KEY_FILE|SMS_SENDER/)]),
      );
    }
  });

  it("weak or published secrets do not count", () => {
    const problems = productionProblems(
      loadConfig({
        env: {
          HOST: "0.0.0.0",
          ...PRODUCTION_SETTINGS,
          ADMIN_TOKEN: DEV_ADMIN_TOKEN,
          OTP_PEPPER: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN: is a published default/),
      expect.stringMatching(/^OTP_PEPPER: has fewer than 10 distinct characters/),
    ]);
    expect(productionProblems(loadConfig({ env: { HOST: "0.0.0.0", ...PRODUCTION_SETTINGS } }))).toEqual([]);
  });

  it("dev mode has no production requirements", () => {
    expect(productionProblems(loadConfig({ env: {} }))).toEqual([]);
  });
});

describe("npm start refuses an unsafe configuration", () => {
  const dataDir = dataDirs("dev-mode-");

  it("on a public address without production settings it exits at once with one message naming every missing setting", async () => {
    const platform = spawnPlatform({ HOST: "0.0.0.0", PORT: "0", DATA_DIR: dataDir() });
    try {
      expect(await exitCodeWithin(platform, 20_000)).toBe(2);
      const stderr = platform.stderr();
      expect(stderr.match(/refusing to start/g)).toHaveLength(1);
      for (const option of ["ADMIN_TOKEN", "OTP_PEPPER", "JWT_PRIVATE_KEY_FILE", "SMS_SENDER"]) {
        expect(stderr).toContain(`${option}: `);
      }
    } finally {
      await platform.stop(1_000);
    }
  });

  it("DEV_MODE=true on a public address without the override exits, naming the override", async () => {
    const platform = spawnPlatform({ HOST: "0.0.0.0", PORT: "0", DATA_DIR: dataDir(), DEV_MODE: "true" });
    try {
      expect(await exitCodeWithin(platform, 20_000)).toBe(2);
      expect(platform.stderr()).toContain("ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS");
    } finally {
      await platform.stop(1_000);
    }
  });
});

describe.skipIf(!dynamodb)("dev mode and production mode of a running platform", () => {
  const around = productionSurroundings("dev-mode-run-");

  const engineEnv = (prefix: string) => ({
    PORT: "0",
    DATA_DIR: around.dataDir,
    DYNAMODB_ENDPOINT: dynamodb ?? "",
    TABLE_PREFIX: uniqueName(prefix),
    NODE_ID: uniqueName(prefix.replaceAll("_", "-")),
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_MS: "1000",
  });

  it("with the override, dev mode on a public address starts and warns, naming the risk", async () => {
    const platform = spawnPlatform({
      ...engineEnv("devpub_"),
      HOST: "0.0.0.0",
      DEV_MODE: "true",
      ALLOW_DEV_MODE_ON_PUBLIC_ADDRESS: "true",
    });
    try {
      await waitForStart(platform);
      const warnings = platform.logLines().filter((line) => line.level === 40);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            msg: expect.stringMatching(/non-loopback address.*one-time code.*dev-admin-token/s),
          }),
        ]),
      );
    } finally {
      await platform.stop();
    }
  });

  it("in production mode the dev OTP endpoint does not exist and dev-admin-token opens nothing", async () => {
    const platform = spawnPlatform({
      ...engineEnv("prod_"),
      HOST: "0.0.0.0",
      ...PRODUCTION_SETTINGS,
      JWT_PRIVATE_KEY_FILE: join(around.dataDir, "jwt.pem"),
      INTERNAL_GRPC_TOKEN: "c41e9b27d8f03a65b2e1d7c9f0a8e3b6d5c2a1e4",
      SNS_REGION: "eu-west-1",
      SNS_ENDPOINT: around.sns.endpoint,
      AWS_ACCESS_KEY_ID: "test-access-key",
      AWS_SECRET_ACCESS_KEY: "test-secret-key",
    });
    try {
      const started = await waitForStart(platform);
      const url = started.url;
      const internalUrl = typeof started.internal_url === "string" ? started.internal_url : url;
      const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
      const requested = await fetch(`${url}/api/v1/auth/request-otp`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phone_number: phone }),
      });
      expect(requested.status).toBe(200);
      const devOtp = await fetch(`${url}/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`);
      expect(devOtp.status).toBe(404);
      expect((await devOtp.json()).error.code).toBe("NOT_FOUND");

      const withDevToken = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };
      expect((await fetch(`${internalUrl}/admin/ring`, { headers: withDevToken })).status).toBe(401);
      expect((await fetch(`${internalUrl}/inspector/api/snapshot`, { headers: withDevToken })).status).toBe(
        401,
      );
      expect((await fetch(`${internalUrl}/inspector/api/snapshot`)).status).toBe(401);
      const withToken = { authorization: `Bearer ${STRONG_ADMIN_TOKEN}` };
      expect((await fetch(`${internalUrl}/admin/ring`, { headers: withToken })).status).toBe(200);
    } finally {
      await platform.stop();
    }
  });
});
