import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  engineEnv,
  HOOK_TIMEOUT_MS,
  type Platform,
  startPlatform,
  TEST_TIMEOUT_MS,
} from "./support/platform.js";
import { login, newDevice, type User } from "./support/rest.js";
import { kidOf, TokenMint } from "./support/tokens.js";
import { ISO_MS, type Refusal, WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §3 (connection and authentication) and client-contract CL-01..CL-03, server side: what the
 * upgrade accepts, what it refuses with which HTTP status and `{error, message, details?}` body, and the
 * `connection_established` greeting.
 */
const engines = engineEnv();

describe.skipIf(!engines)(
  "conformance: handshake and authentication (protocol §3)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let platform: Platform;
    let mint: TokenMint;
    let alice: User;

    beforeAll(async () => {
      platform = await startPlatform();
      mint = await TokenMint.forPlatform(platform.baseUrl, platform.signingKeyPem);
      alice = await login(platform.baseUrl);
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      await platform?.stop();
    }, HOOK_TIMEOUT_MS);

    it("§3 CL-01/CL-02: `Authorization: Bearer` + `X-Device-ID` headers connect; connection_established carries the documented payload", async () => {
      const client = await WsClient.connect(platform.wsUrl, {
        token: alice.accessToken,
        deviceId: alice.deviceId,
      });
      const greeting = client.established;
      expect(greeting.request_id).toBeUndefined();
      expect(greeting.timestamp).toMatch(ISO_MS);
      expect(greeting.payload).toEqual(
        expect.objectContaining({
          connection_id: expect.stringMatching(/^conn_[0-9A-HJKMNP-TV-Z]{26}$/),
          user_id: alice.userId,
          device_id: alice.deviceId,
          server_time: expect.stringMatching(ISO_MS),
          heartbeat_interval_ms: 30_000,
          protocol_version: 1,
        }),
      );
      client.close();
    });

    it("§3 CL-01/CL-02: the browser fallback `?token=&device_id=` connects too", async () => {
      const client = await WsClient.connect(platform.wsUrl, {
        token: alice.accessToken,
        deviceId: newDevice(),
        via: "query",
      });
      expect(client.established.payload.user_id).toBe(alice.userId);
      client.close();
    });

    it("§3 versions: `protocol_version` equals the URL's version (version_consistency)", async () => {
      const client = await WsClient.connect(platform.wsUrl, {
        token: alice.accessToken,
        deviceId: newDevice(),
        path: "/v1/ws",
      });
      expect(client.established.payload.protocol_version).toBe(1);
      client.close();
    });

    it("§3 CL-03: connection_established is the first frame, before anything the client could ask for", async () => {
      const client = await WsClient.connect(platform.wsUrl, {
        token: alice.accessToken,
        deviceId: newDevice(),
      });
      expect(client.frames[0]?.type).toBe("connection_established");
      expect(client.frames.filter((frame) => frame.type === "connection_established")).toHaveLength(1);
      client.close();
    });

    it("§3 rejected upgrade: missing device_id -> 400 invalid_request", async () => {
      const attempt = await WsClient.attempt(platform.wsUrl, { token: alice.accessToken });
      expect(attempt).toMatchObject({
        refusal: { status: 400, body: { error: "invalid_request", message: expect.any(String) } },
      });
    });

    it("§3 rejected upgrade: a malformed Authorization header -> 400 invalid_request", async () => {
      const attempt = await WsClient.attempt(platform.wsUrl, {
        deviceId: newDevice(),
        extraHeaders: { authorization: "Token abc" },
      });
      expect(attempt).toMatchObject({ refusal: { status: 400, body: { error: "invalid_request" } } });
    });

    it("§3 rejected upgrade: unsupported version -> 400 unsupported_version with supported_versions and requested_version", async () => {
      const attempt = await WsClient.attempt(platform.wsUrl, {
        token: alice.accessToken,
        deviceId: newDevice(),
        path: "/v7/ws",
      });
      expect(attempt).toMatchObject({
        refusal: {
          status: 400,
          body: {
            error: "unsupported_version",
            message: expect.any(String),
            details: { supported_versions: [1], requested_version: 7 },
          },
        },
      });
    });

    it("§3 rejected upgrade: no token -> 401 invalid_token (authentication_required)", async () => {
      const attempt = await WsClient.attempt(platform.wsUrl, { deviceId: newDevice() });
      expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
    });

    it("§3 rejected upgrade: a malformed token -> 401 invalid_token", async () => {
      const attempt = await WsClient.attempt(platform.wsUrl, { token: "not.a.jwt", deviceId: newDevice() });
      expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
    });

    it("§3 JWT checks: a tampered signature -> 401 invalid_token (invariant 6)", async () => {
      const [header, payload, signature] = alice.accessToken.split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<
        string,
        unknown
      >;
      const forged = Buffer.from(
        JSON.stringify({ ...claims, sub: "user_01HZZZZZZZZZZZZZZZZZZZZZZZ" }),
      ).toString("base64url");
      const attempt = await WsClient.attempt(platform.wsUrl, {
        token: `${header}.${forged}.${signature}`,
        deviceId: newDevice(),
      });
      expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
    });

    it("§3 JWT checks: a token signed by another key under the platform's kid -> 401 invalid_token", async () => {
      const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
        .privateKey.export({ format: "pem", type: "pkcs8" })
        .toString();
      const token = await mint.token(alice.userId, { key: other });
      const attempt = await WsClient.attempt(platform.wsUrl, { token, deviceId: newDevice() });
      expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
    });

    it("§3 JWT checks: `exp > now` — an expired token -> 401 invalid_token with details.expired_at", async () => {
      const iat = Math.floor(Date.now() / 1000) - 3600;
      const token = await mint.token(alice.userId, { iatS: iat, ttlS: 900 });
      const attempt = await WsClient.attempt(platform.wsUrl, { token, deviceId: newDevice() });
      expect(attempt).toMatchObject({
        refusal: {
          status: 401,
          body: {
            error: "invalid_token",
            details: { expired_at: new Date((iat + 900) * 1000).toISOString() },
          },
        },
      });
    });

    it("§3 JWT checks: `iat < now` — a token issued in the future -> 401 invalid_token", async () => {
      const token = await mint.token(alice.userId, { iatS: Math.floor(Date.now() / 1000) + 600 });
      const attempt = await WsClient.attempt(platform.wsUrl, { token, deviceId: newDevice() });
      expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
    });

    it.each(["sub", "iat", "exp", "jti"])(
      "§3 JWT: `%s` is required — a token without it -> 401 invalid_token",
      async (claim) => {
        const token = await mint.token(alice.userId, { claims: { [claim]: undefined } });
        const attempt = await WsClient.attempt(platform.wsUrl, { token, deviceId: newDevice() });
        expect(attempt).toMatchObject({ refusal: { status: 401, body: { error: "invalid_token" } } });
      },
    );

    it("§3 JWT: a well-formed token of the platform's key (made outside it) connects — the check is the signature, not the minting service", async () => {
      expect(kidOf(alice.accessToken)).toBe(mint.kid);
      const token = await mint.token(alice.userId);
      const client = await WsClient.connect(platform.wsUrl, { token, deviceId: newDevice() });
      expect(client.established.payload.user_id).toBe(alice.userId);
      client.close();
    });

    it("§3 rejected upgrade: too many connects -> 429 rate_limited with retry_after_seconds", async () => {
      const user = await login(platform.baseUrl);
      let refusal: Refusal | undefined;
      // Bounded: the documented limit is a small number per minute; 200 is far beyond any sane value.
      for (let i = 0; i < 200 && refusal === undefined; i++) {
        const attempt = await WsClient.attempt(platform.wsUrl, {
          token: user.accessToken,
          deviceId: newDevice(),
        });
        if ("refusal" in attempt) refusal = attempt.refusal;
        else attempt.client.close();
      }
      expect(refusal).toMatchObject({
        status: 429,
        body: { error: "rate_limited", details: { retry_after_seconds: expect.any(Number) } },
      });
      const seconds = Number(refusal?.body.details?.retry_after_seconds);
      expect(seconds).toBeGreaterThan(0);
    });
  },
);
