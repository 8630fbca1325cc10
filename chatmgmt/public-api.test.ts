import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ApiResponse,
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  login,
  newPhone,
} from "../test/support/chatmgmt-fixture.js";

/** The headers of spec §1 as numbers: limit, remaining, reset (Unix s). */
function rateLimitOf(response: ApiResponse): { limit: number; remaining: number; reset: number } {
  const read = (name: string) => {
    const value = response.headers.get(name);
    expect(value, name).toMatch(/^\d+$/);
    return Number(value);
  };
  return {
    limit: read("x-ratelimit-limit"),
    remaining: read("x-ratelimit-remaining"),
    reset: read("x-ratelimit-reset"),
  };
}

/**
 * What chat management answers without a bearer token (spec §1, §2): every answer reports the per-IP limit
 * that applied to it in `X-RateLimit-*`, and that limit holds; `GET /api/v1/` announces the API.
 */
describe.skipIf(!dynamoEndpoint)("chat management without a bearer token", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fixture = await chatMgmtFixture({
      env: {
        REST_UNAUTHENTICATED_PER_MINUTE: "4",
        OTP_REQUESTS_PER_IP: "2",
        OTP_REQUEST_WINDOW_S: "900",
        MAX_GROUP_MEMBERS: "7",
        API_DOCUMENTATION_URL: "https://docs.example.test/api",
      },
    });
    call = apiClient(fixture.baseUrl);
  });
  afterAll(async () => fixture?.close());
  // Every test starts in fresh windows of both per-IP limits (the OTP one is the longer, 900 s).
  beforeEach(() => fixture.clock.advance(900_000));

  it("401s count against the client's IP and report it; past REST_UNAUTHENTICATED_PER_MINUTE they become 429", async () => {
    const windowEndS = Math.ceil((Math.floor(fixture.clock.now() / 60_000) + 1) * 60);
    const remaining: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await call("GET", "/api/v1/users/me");
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("UNAUTHORIZED");
      const headers = rateLimitOf(response);
      expect(headers).toMatchObject({ limit: 4, reset: windowEndS });
      remaining.push(headers.remaining);
    }
    expect(remaining).toEqual([3, 2, 1, 0]);
    const limited = await call("GET", "/api/v1/chats", { token: "not-a-token" });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({
      code: "RATE_LIMITED",
      details: { limit: 4, window_seconds: 60 },
    });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(rateLimitOf(limited)).toMatchObject({ limit: 4, remaining: 0 });
    fixture.clock.advance(60_000);
    const again = await call("GET", "/api/v1/users/me");
    expect(again.status).toBe(401);
    expect(rateLimitOf(again)).toMatchObject({ limit: 4, remaining: 3 });
  });

  it("an authenticated caller is counted per user, not against the IP that ran out", async () => {
    const user = await login(call, newPhone());
    for (let i = 0; i < 5; i++) await call("GET", "/api/v1/users/me");
    expect((await call("GET", "/api/v1/users/me")).status).toBe(429);
    const mine = await call("GET", "/api/v1/users/me", { token: user.accessToken });
    expect(mine.status).toBe(200);
    expect(rateLimitOf(mine).limit).toBe(fixture.config.restReadsPerMinute);
  });

  it("request-otp reports its own per-IP limit (OTP_REQUESTS_PER_IP), invalid bodies included", async () => {
    const first = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: newPhone() } });
    expect(first.status).toBe(200);
    const windowEndS = (Math.floor(fixture.clock.now() / 900_000) + 1) * 900;
    expect(rateLimitOf(first)).toEqual({ limit: 2, remaining: 1, reset: windowEndS });
    const invalid = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: "nope" } });
    expect(invalid.status).toBe(400);
    expect(rateLimitOf(invalid)).toEqual({ limit: 2, remaining: 0, reset: windowEndS });
    const limited = await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: newPhone() } });
    expect(limited.status).toBe(429);
    expect(rateLimitOf(limited)).toMatchObject({ limit: 2, remaining: 0 });
  });

  it("answers refused before routing, unknown paths and verify-otp carry the headers too", async () => {
    const tooLarge = await call("POST", "/api/v1/chats", { rawBody: "x".repeat(70_000) });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("retry-after")).toBe("0");
    expect(rateLimitOf(tooLarge)).toMatchObject({ limit: 4, remaining: 3 });
    const unknown = await call("GET", "/api/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");
    expect(rateLimitOf(unknown)).toMatchObject({ limit: 4, remaining: 2 });
    const verify = await call("POST", "/api/v1/auth/verify-otp", {
      body: { phone_number: newPhone(), otp: "123456", device_id: "device-1" },
      headers: { "x-device-id": "device-1" },
    });
    expect(verify.status).toBe(401);
    expect(rateLimitOf(verify)).toMatchObject({ limit: 4, remaining: 1 });
  });

  it("GET /api/v1/ and /api/v1 announce version and capabilities from the configured limits, in {data}", async () => {
    for (const path of ["/api/v1/", "/api/v1"]) {
      const response = await call("GET", path);
      expect(response.status, path).toBe(200);
      expect(response.body, path).toEqual({
        data: {
          version: "1.0.0",
          api_version: "v1",
          capabilities: {
            max_message_size_bytes: 4096,
            max_chat_members: 7,
            max_chats_per_user: 1000,
            supported_content_types: ["text/plain"],
            auth_methods: ["phone_otp"],
            websocket_protocol_version: 1,
          },
          documentation_url: "https://docs.example.test/api",
        },
      });
      expect(rateLimitOf(response).limit, path).toBe(4);
    }
  });
});
