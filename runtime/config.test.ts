import { describe, expect, it } from "vitest";
import { configHelp, configMarkdown, loadConfig, OPTIONS } from "./config.js";
import { AppError } from "./errors.js";

describe("configuration", () => {
  it("has a default for every option an embedded start needs", () => {
    const config = loadConfig({ env: {}, argv: [] });
    expect(config).toMatchObject({
      role: "all",
      port: 8080,
      dataDir: "./data",
      devMode: true,
      logLevel: "info",
    });
    expect(config.dynamodbEndpoint).toBeUndefined();
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.nodeId).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it("lets flags win over environment variables and treats empty variables as unset", () => {
    const config = loadConfig({
      env: { PORT: "9000", REDIS_URL: "" },
      argv: ["--port", "9100", "--data-dir=/tmp/d"],
    });
    expect(config.port).toBe(9100);
    expect(config.dataDir).toBe("/tmp/d");
    expect(config.redisUrl).toBeUndefined();
  });

  it("turns dev mode off by default outside the embedded role", () => {
    expect(loadConfig({ env: { ROLE: "gateway" } }).devMode).toBe(false);
    expect(loadConfig({ env: { ROLE: "gateway", DEV_MODE: "true" } }).devMode).toBe(true);
  });

  it("sends codes with the dev sender only in dev mode; SNS_REGION follows AWS_REGION", () => {
    expect(loadConfig({ env: {} }).smsSender).toBe("dev");
    expect(loadConfig({ env: { ROLE: "chatmgmt" } }).smsSender).toBeUndefined();
    const sns = loadConfig({ env: { ROLE: "chatmgmt", SMS_SENDER: "sns", AWS_REGION: "eu-central-1" } });
    expect(sns).toMatchObject({ smsSender: "sns", snsRegion: "eu-central-1" });
    expect(loadConfig({ env: { SNS_REGION: "us-west-2" } }).snsRegion).toBe("us-west-2");
  });

  it("rejects every invalid value at once with CONFIG_INVALID", () => {
    let caught: unknown;
    try {
      loadConfig({ env: { PORT: "70000", ROLE: "router", KAFKA_BROKERS: "nope" } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as AppError;
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("PORT");
    expect(error.message).toContain("ROLE");
    expect(error.message).toContain("KAFKA_BROKERS");
  });

  it("refuses unknown flags instead of ignoring them", () => {
    expect(() => loadConfig({ env: {}, argv: ["--prot", "1"] })).toThrow(/unknown option --prot/);
  });

  it("documents every option in --help and in the README table", () => {
    for (const spec of Object.values(OPTIONS)) {
      expect(configHelp()).toContain(spec.env);
      expect(configMarkdown()).toContain(`\`${spec.env}\``);
    }
  });
});
