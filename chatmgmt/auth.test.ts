import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  login,
  newPhone,
  testSigningKeyPem,
} from "../test/support/chatmgmt-fixture.js";
import { loadOrCreateSigningKey } from "./auth/signing-keys.js";

/** Auth over REST on real dynalite: OTP, tokens, refresh rotation, sessions, and the attack matrix. */
describe.skipIf(!dynamoEndpoint)("chat management auth", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fixture = await chatMgmtFixture();
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());

  const requestCode = async (phone: string) => {
    const response = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
    expect(response.status).toBe(200);
    return (await call("GET", `/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`)).body.data.otp as string;
  };
  const verify = (phone: string, otp: string, deviceId = "device-1", headerDevice = deviceId) =>
    call("POST", "/api/v1/auth/verify-otp", {
      body: { phone_number: phone, otp, device_id: deviceId },
      headers: { "x-device-id": headerDevice },
    });
  const wrong = (otp: string) => String((Number(otp) + 1) % 1_000_000).padStart(6, "0");

  describe("request-otp and verify-otp", () => {
    it("request-otp answers the phone, the expiry 5 minutes ahead and retry_after_seconds, with X-Request-ID", async () => {
      const phone = newPhone();
      const response = await call("POST", "/api/v1/auth/request-otp", {
        body: { phone_number: phone },
        headers: { "x-request-id": "req-123" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toBe("req-123");
      expect(response.body.data).toEqual({
        phone_number: phone,
        expires_at: new Date(fixture.clock.now() + 300_000).toISOString(),
        retry_after_seconds: 60,
      });
    });

    it("stores only an HMAC of the code, never the code", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      const { phoneHash } = await import("../runtime/ports/user-store.js");
      const record = await fixture.stores.otpStore.getOtp(phoneHash(phone));
      expect(record?.otpMac).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(record)).not.toContain(code);
    });

    it("refuses a malformed phone number with VALIDATION_ERROR naming the field", async () => {
      const response = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: "0123" } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: "VALIDATION_ERROR",
        details: { field_errors: [{ field: "phone_number", code: "INVALID_FORMAT" }] },
      });
      expect(typeof response.body.error.request_id).toBe("string");
      const missing = await call("POST", "/api/v1/auth/request-otp", { body: {} });
      expect(missing.body.error.details.field_errors[0]).toMatchObject({
        field: "phone_number",
        code: "REQUIRED",
      });
    });

    it("refuses bodies that are not JSON (400) or larger than 64 KiB (413 with Retry-After: 0)", async () => {
      const bad = await call("POST", "/api/v1/auth/request-otp", {
        rawBody: "{nope",
        headers: { "content-type": "application/json" },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe("BAD_REQUEST");
      const big = await call("POST", "/api/v1/auth/request-otp", {
        rawBody: JSON.stringify({ phone_number: "x".repeat(70_000) }),
        headers: { "content-type": "application/json" },
      });
      expect(big.status).toBe(413);
      expect(big.headers.get("retry-after")).toBe("0");
      expect(big.body.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { max_bytes: 65536 } });
    });

    it("a first login creates the user (201), a later one on another device finds it (200)", async () => {
      const phone = newPhone();
      const first = await verify(phone, await requestCode(phone), "phone-a");
      expect(first.status).toBe(201);
      expect(first.body.data).toMatchObject({
        user: { phone_number: phone, display_name: null },
        session: { device_id: "phone-a" },
        tokens: { token_type: "Bearer", expires_in: 3600 },
        is_new_user: true,
      });
      const second = await verify(phone, await requestCode(phone), "phone-b");
      expect(second.status).toBe(200);
      expect(second.body.data.is_new_user).toBe(false);
      expect(second.body.data.user.user_id).toBe(first.body.data.user.user_id);
    });

    it("racing first logins of one phone make one user", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      const results = await Promise.all([
        verify(phone, code, "d1"),
        verify(phone, code, "d2"),
        verify(phone, code, "d3"),
      ]);
      const ok = results.filter((r) => r.status === 201 || r.status === 200);
      // One code verifies once: the others are INVALID_OTP.
      expect(ok).toHaveLength(1);
      expect(results.filter((r) => r.body.error?.code === "INVALID_OTP")).toHaveLength(2);
    });

    it("a retried verification on the same device gets the same session, fresh tokens and the original status", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      const first = await verify(phone, code, "tablet");
      expect(first.status).toBe(201);
      fixture.clock.advance(1000);
      const retry = await verify(phone, code, "tablet");
      expect(retry.status).toBe(201);
      expect(retry.body.data.is_new_user).toBe(true);
      expect(retry.body.data.session.session_id).toBe(first.body.data.session.session_id);
      expect(retry.body.data.tokens.refresh_token).not.toBe(first.body.data.tokens.refresh_token);
      expect(
        (await call("GET", "/api/v1/users/me", { token: retry.body.data.tokens.access_token })).status,
      ).toBe(200);
      const sessions = await call("GET", "/api/v1/sessions", { token: retry.body.data.tokens.access_token });
      expect(sessions.body.data).toHaveLength(1);
    });

    it("a verified code is INVALID_OTP for another device, a wrong code, or after its 5 minutes", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      expect((await verify(phone, code, "d1")).status).toBe(201);
      const otherDevice = await verify(phone, code, "d2");
      expect(otherDevice.status).toBe(401);
      expect(otherDevice.body.error.code).toBe("INVALID_OTP");
      expect((await verify(phone, wrong(code), "d1")).status).toBe(401);
      fixture.clock.advance(300_001);
      expect((await verify(phone, code, "d1")).status).toBe(401);
    });

    it("an expired code is INVALID_OTP", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      fixture.clock.advance(300_001);
      const response = await verify(phone, code);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("INVALID_OTP");
    });

    it("X-Device-ID must equal device_id", async () => {
      const phone = newPhone();
      const response = await verify(phone, await requestCode(phone), "device-1", "device-2");
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("DEVICE_MISMATCH");
    });

    it("a wrong code five times locks the phone out: even the right code and new requests get 429", async () => {
      const phone = newPhone();
      const code = await requestCode(phone);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const response = await verify(phone, wrong(code));
        expect(response.status).toBe(401);
        expect(response.body.error).toMatchObject({
          code: "INVALID_OTP",
          details: { attempts_remaining: 5 - attempt },
        });
      }
      const right = await verify(phone, code);
      expect(right.status).toBe(429);
      expect(right.body.error.code).toBe("RATE_LIMITED");
      expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
      const again = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
      expect(again.status).toBe(429);
      // After the 15-minute lockout the phone may log in again.
      fixture.clock.advance(900_001);
      expect((await verify(phone, await requestCode(phone))).status).toBe(201);
    });

    it("wrong guesses carry over to a newly requested code, so re-requesting buys no extra attempts", async () => {
      const phone = newPhone();
      const first = await requestCode(phone);
      for (let attempt = 0; attempt < 4; attempt++) await verify(phone, wrong(first));
      const second = await requestCode(phone);
      const last = await verify(phone, wrong(second));
      expect(last.body.error).toMatchObject({ code: "INVALID_OTP", details: { attempts_remaining: 0 } });
      expect((await verify(phone, second)).status).toBe(429);
    });

    it("a phone may request 3 codes per 15 minutes; the 4th is 429 with Retry-After", async () => {
      const phone = newPhone();
      for (let i = 0; i < 3; i++) {
        expect(
          (await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } })).status,
        ).toBe(200);
      }
      const fourth = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
      expect(fourth.status).toBe(429);
      expect(fourth.body.error).toMatchObject({
        code: "RATE_LIMITED",
        details: { limit: 3, window_seconds: 900 },
      });
      expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(0);
    });
  });

  describe("access tokens", () => {
    it("are RS256 JWTs with kid and the spec's claims, verifiable with the served JWKS", async () => {
      const me = await login(call);
      const header = decodeProtectedHeader(me.accessToken);
      const jwks = await call("GET", "/.well-known/jwks.json");
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys).toHaveLength(1);
      expect(jwks.body.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: header.kid });
      expect(jwks.body.keys[0].d).toBeUndefined();
      expect(fixture.management.jwks()).toEqual(jwks.body);
      expect(fixture.management.info()).toEqual({
        signingKeyId: header.kid,
        otpPepper: "configured",
        devOtpEndpoint: true,
        capabilities: { max_chat_members: 100, auth_methods: ["phone_otp"] },
      });
      const { payload } = await jwtVerify(me.accessToken, createLocalJWKSet(jwks.body), {
        issuer: "messaging-platform",
        audience: "messaging-api",
        currentDate: new Date(fixture.clock.now()),
      });
      expect(header.alg).toBe("RS256");
      expect(payload).toMatchObject({ sub: me.userId, sid: me.sessionId, scope: "messaging" });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
      expect(payload.jti).toMatch(/^[0-9A-Z]{26}$/);
      expect(await fixture.management.verifyAccessToken(me.accessToken)).toMatchObject({ userId: me.userId });
    });

    it("a missing, expired, tampered or foreign-signed token is 401 UNAUTHORIZED", async () => {
      const me = await login(call);
      const missing = await call("GET", "/api/v1/users/me");
      expect(missing.status).toBe(401);
      expect(missing.body.error.code).toBe("UNAUTHORIZED");

      const [head, body, signature] = me.accessToken.split(".");
      const claims = JSON.parse(Buffer.from(body ?? "", "base64url").toString());
      const forged = Buffer.from(
        JSON.stringify({ ...claims, sub: "user_01ARZ3NDEKTSV4RRFFQ69G5FAV" }),
      ).toString("base64url");
      const tampered = await call("GET", "/api/v1/users/me", { token: `${head}.${forged}.${signature}` });
      expect(tampered.status).toBe(401);
      expect(tampered.body.error.details.reason).toBe("invalid_token");

      const foreignKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
      const foreign = await new SignJWT({ sid: me.sessionId, scope: "messaging" })
        .setProtectedHeader({ alg: "RS256", kid: decodeProtectedHeader(me.accessToken).kid ?? "" })
        .setSubject(me.userId)
        .setIssuer("messaging-platform")
        .setAudience("messaging-api")
        .setIssuedAt(Math.floor(fixture.clock.now() / 1000))
        .setExpirationTime(Math.floor(fixture.clock.now() / 1000) + 600)
        .setJti("01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .sign(foreignKey);
      expect((await call("GET", "/api/v1/users/me", { token: foreign })).status).toBe(401);

      // Our own key, but claims that are not ours to accept: another audience, an issue time in the future.
      const ownKey = createPrivateKey(testSigningKeyPem());
      const kid = decodeProtectedHeader(me.accessToken).kid ?? "";
      const signed = (audience: string, iatS: number) =>
        new SignJWT({ sid: me.sessionId, scope: "messaging" })
          .setProtectedHeader({ alg: "RS256", kid })
          .setSubject(me.userId)
          .setIssuer("messaging-platform")
          .setAudience(audience)
          .setIssuedAt(iatS)
          .setExpirationTime(iatS + 600)
          .setJti("01ARZ3NDEKTSV4RRFFQ69G5FAV")
          .sign(ownKey);
      const nowS = Math.floor(fixture.clock.now() / 1000);
      expect(
        (await call("GET", "/api/v1/users/me", { token: await signed("messaging-api", nowS) })).status,
      ).toBe(200);
      expect((await call("GET", "/api/v1/users/me", { token: await signed("other-api", nowS) })).status).toBe(
        401,
      );
      expect(
        (await call("GET", "/api/v1/users/me", { token: await signed("messaging-api", nowS + 60) })).status,
      ).toBe(401);

      fixture.clock.advance(3_600_001);
      const expired = await call("GET", "/api/v1/users/me", { token: me.accessToken });
      expect(expired.status).toBe(401);
      expect(expired.body.error.details.reason).toBe("token_expired");
    });
  });

  describe("refresh and sessions", () => {
    it("refresh rotates: the new tokens work, the old refresh token is spent", async () => {
      const me = await login(call);
      const refreshed = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": me.deviceId },
      });
      expect(refreshed.status).toBe(200);
      const tokens = refreshed.body.data.tokens;
      expect(tokens.refresh_token).not.toBe(me.refreshToken);
      expect(decodeJwt(tokens.access_token).sid).toBe(me.sessionId);
      expect((await call("GET", "/api/v1/users/me", { token: tokens.access_token })).status).toBe(200);
    });

    it("replaying a rotated-out refresh token revokes the whole family and closes its WebSockets", async () => {
      const me = await login(call);
      const rotated = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": me.deviceId },
      });
      const current = rotated.body.data.tokens;
      const replay = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": me.deviceId },
      });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe("INVALID_REFRESH_TOKEN");
      // The legitimate holder's newer tokens die with the family.
      const afterwards = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: current.refresh_token },
        headers: { "x-device-id": me.deviceId },
      });
      expect(afterwards.status).toBe(401);
      const access = await call("GET", "/api/v1/users/me", { token: current.access_token });
      expect(access.status).toBe(401);
      expect(access.body.error.details.reason).toBe("session_revoked");
      expect(fixture.closed).toContainEqual({
        userId: me.userId,
        sessionId: me.sessionId,
        reason: "session_revoked",
      });
    });

    it("of racing refreshes with one token exactly one succeeds", async () => {
      const me = await login(call);
      const results = await Promise.all(
        [1, 2, 3, 4].map(() =>
          call("POST", "/api/v1/auth/refresh", {
            body: { refresh_token: me.refreshToken },
            headers: { "x-device-id": me.deviceId },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    });

    it("a refresh token presented by another device is DEVICE_MISMATCH; another session's access token is refused", async () => {
      const me = await login(call, newPhone(), "laptop");
      const mismatch = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": "attacker-phone" },
      });
      expect(mismatch.status).toBe(401);
      expect(mismatch.body.error.code).toBe("DEVICE_MISMATCH");
      const other = await login(call, newPhone(), "laptop");
      const crossed = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        token: other.accessToken,
        headers: { "x-device-id": "laptop" },
      });
      expect(crossed.status).toBe(401);
      expect(crossed.body.error.code).toBe("INVALID_REFRESH_TOKEN");
      const garbage = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: "not-a-token" },
        headers: { "x-device-id": "laptop" },
      });
      expect(garbage.body.error.code).toBe("INVALID_REFRESH_TOKEN");
      // The legitimate device still refreshes with an expired access token of its own session.
      fixture.clock.advance(3_600_001);
      const own = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        token: me.accessToken,
        headers: { "x-device-id": "laptop" },
      });
      expect(own.status).toBe(200);
    });

    it("logout ends the session (204): its tokens stop working and its WebSockets are closed", async () => {
      const me = await login(call);
      expect(
        (
          await call("POST", "/api/v1/auth/logout", {
            token: me.accessToken,
            body: { refresh_token: me.refreshToken },
          })
        ).status,
      ).toBe(204);
      expect((await call("GET", "/api/v1/users/me", { token: me.accessToken })).status).toBe(401);
      const refresh = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": me.deviceId },
      });
      expect(refresh.status).toBe(401);
      expect(fixture.closed).toContainEqual({
        userId: me.userId,
        sessionId: me.sessionId,
        reason: "session_revoked",
      });
      expect((await call("POST", "/api/v1/auth/logout", {})).status).toBe(401);
    });

    it("a user holds at most 5 sessions (the oldest is evicted) and one per device", async () => {
      const phone = newPhone();
      const sessions = [];
      for (let device = 1; device <= 6; device++) {
        sessions.push(await login(call, phone, `device-${device}`));
        // A phone may request 3 codes per 15-minute window.
        fixture.clock.advance(300_001);
      }
      const listed = await call("GET", "/api/v1/sessions", { token: sessions[5]?.accessToken });
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((s: { device_id: string }) => s.device_id)).toEqual([
        "device-2",
        "device-3",
        "device-4",
        "device-5",
        "device-6",
      ]);
      expect(listed.body.data.filter((s: { is_current: boolean }) => s.is_current)).toHaveLength(1);
      expect((await call("GET", "/api/v1/users/me", { token: sessions[0]?.accessToken })).status).toBe(401);
      // A new login on device-6 replaces device-6's session.
      fixture.clock.advance(300_001);
      const again = await login(call, phone, "device-6");
      expect((await call("GET", "/api/v1/users/me", { token: sessions[5]?.accessToken })).status).toBe(401);
      const after = await call("GET", "/api/v1/sessions", { token: again.accessToken });
      expect(after.body.data).toHaveLength(5);
    });

    it("DELETE /sessions/{id} revokes one session (closing its sockets); others' sessions are 404", async () => {
      const phone = newPhone();
      const a = await login(call, phone, "a");
      const b = await login(call, phone, "b");
      const stranger = await login(call);
      expect(
        (await call("DELETE", `/api/v1/sessions/${stranger.sessionId}`, { token: a.accessToken })).status,
      ).toBe(404);
      expect((await call("DELETE", `/api/v1/sessions/${b.sessionId}`, { token: a.accessToken })).status).toBe(
        204,
      );
      expect((await call("GET", "/api/v1/users/me", { token: b.accessToken })).status).toBe(401);
      expect(fixture.closed).toContainEqual({
        userId: b.userId,
        sessionId: b.sessionId,
        reason: "session_revoked",
      });
      expect((await call("GET", "/api/v1/users/me", { token: stranger.accessToken })).status).toBe(200);
      const malformed = await call("DELETE", "/api/v1/sessions/nope", { token: a.accessToken });
      expect(malformed.body.error.code).toBe("VALIDATION_ERROR");
    });

    it("DELETE /sessions revokes every other session, or all with include_current=true", async () => {
      const phone = newPhone();
      const a = await login(call, phone, "a");
      await login(call, phone, "b");
      await login(call, phone, "c");
      const others = await call("DELETE", "/api/v1/sessions", { token: a.accessToken });
      expect(others.body.data).toEqual({ revoked_count: 2 });
      expect((await call("GET", "/api/v1/users/me", { token: a.accessToken })).status).toBe(200);
      const all = await call("DELETE", "/api/v1/sessions?include_current=true", { token: a.accessToken });
      expect(all.body.data).toEqual({ revoked_count: 1 });
      expect((await call("GET", "/api/v1/users/me", { token: a.accessToken })).status).toBe(401);
    });
  });

  describe("users", () => {
    it("GET and PATCH /users/me; display names are trimmed and checked", async () => {
      const me = await login(call);
      const patched = await call("PATCH", "/api/v1/users/me", {
        token: me.accessToken,
        body: { display_name: "  Ada  " },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.data).toMatchObject({
        user_id: me.userId,
        phone_number: me.phone,
        display_name: "Ada",
      });
      const bad = await call("PATCH", "/api/v1/users/me", {
        token: me.accessToken,
        body: { display_name: "a\u0007b" },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.field_errors[0].field).toBe("display_name");
      const long = await call("PATCH", "/api/v1/users/me", {
        token: me.accessToken,
        body: { display_name: "x".repeat(65) },
      });
      expect(long.body.error.details.field_errors[0].code).toBe("TOO_LONG");
      expect((await call("GET", "/api/v1/users/me", { token: me.accessToken })).body.data.display_name).toBe(
        "Ada",
      );
    });

    it("GET /users/{id} shows the public profile; unknown users are 404 USER_NOT_FOUND", async () => {
      const me = await login(call);
      const other = await login(call);
      const found = await call("GET", `/api/v1/users/${other.userId}`, { token: me.accessToken });
      expect(found.body.data).toEqual({
        user_id: other.userId,
        display_name: null,
        created_at: expect.any(String),
      });
      const missing = await call("GET", `/api/v1/users/${fixture.ids.user()}`, { token: me.accessToken });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("USER_NOT_FOUND");
    });

    it("lookup maps registered numbers to users and lists the rest; 10 per minute", async () => {
      const me = await login(call);
      const other = await login(call);
      const unknown = newPhone();
      const response = await call("POST", "/api/v1/users/lookup", {
        token: me.accessToken,
        body: { phone_numbers: [other.phone, unknown] },
      });
      expect(response.status).toBe(200);
      expect(response.body.data).toEqual({
        users: [{ phone_number: other.phone, user_id: other.userId, display_name: null }],
        not_found: [unknown],
      });
      for (let i = 0; i < 9; i++) {
        await call("POST", "/api/v1/users/lookup", {
          token: me.accessToken,
          body: { phone_numbers: [unknown] },
        });
      }
      const limited = await call("POST", "/api/v1/users/lookup", {
        token: me.accessToken,
        body: { phone_numbers: [unknown] },
      });
      expect(limited.status).toBe(429);
      const tooMany = await call("POST", "/api/v1/users/lookup", {
        token: other.accessToken,
        body: { phone_numbers: Array.from({ length: 101 }, () => unknown) },
      });
      expect(tooMany.status).toBe(400);
    });
  });
});

describe.skipIf(!dynamoEndpoint)("chat management auth outside dev mode, with tight limits", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fixture = await chatMgmtFixture({ env: { DEV_MODE: "false", OTP_REQUESTS_PER_IP: "2" } });
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());

  it("the dev OTP endpoint does not exist", async () => {
    const phone = newPhone();
    await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
    const response = await call("GET", `/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("NOT_FOUND");
  });

  it("one IP may request only OTP_REQUESTS_PER_IP codes per window, whatever the phone", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: newPhone() } })).status,
      );
    }
    expect(statuses.at(-1)).toBe(429);
    const response = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: newPhone() } });
    expect(response.body.error.details).toMatchObject({ limit: 2, window_seconds: 900 });
  });
});

describe("signing keys", () => {
  it("are generated once, kept as a 0600 PEM file and loaded again after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cm-keys-"));
    try {
      const path = join(dir, "nested", "jwt.pem");
      const first = await loadOrCreateSigningKey(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const second = await loadOrCreateSigningKey(path);
      expect(second.kid).toBe(first.kid);
      expect(second.publicJwk).toEqual(first.publicJwk);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!dynamoEndpoint)("chat management per-user request limits", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fixture = await chatMgmtFixture({ env: { REST_READS_PER_MINUTE: "3", REST_WRITES_PER_MINUTE: "2" } });
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());

  it("reads and writes are limited per user per minute, reported in X-RateLimit-* headers", async () => {
    const me = await login(call);
    const first = await call("GET", "/api/v1/users/me", { token: me.accessToken });
    expect(first.headers.get("x-ratelimit-limit")).toBe("3");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("2");
    expect(Number(first.headers.get("x-ratelimit-reset")) * 1000).toBeGreaterThan(fixture.clock.now());
    await call("GET", "/api/v1/users/me", { token: me.accessToken });
    await call("GET", "/api/v1/users/me", { token: me.accessToken });
    const limited = await call("GET", "/api/v1/users/me", { token: me.accessToken });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Writes have their own budget.
    const write = await call("PATCH", "/api/v1/users/me", {
      token: me.accessToken,
      body: { display_name: "W" },
    });
    expect(write.status).toBe(200);
    expect(write.headers.get("x-ratelimit-limit")).toBe("2");
    // The next window starts afresh.
    fixture.clock.advance(60_000);
    expect((await call("GET", "/api/v1/users/me", { token: me.accessToken })).status).toBe(200);
  });
});
