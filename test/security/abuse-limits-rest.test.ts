import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { MemberRole } from "../../runtime/ports/chat-store.js";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  login,
  newPhone,
} from "../support/chatmgmt-fixture.js";

/**
 * Abuse limits of chat management through its real REST API on dynalite: client addresses behind load
 * balancers, OTP verification limits, group limits, refresh-token reuse, and input hygiene. Test clients
 * connect from 127.0.0.1; where a load balancer is simulated, loopback is its address (TRUSTED_PROXIES)
 * and `X-Forwarded-For` carries the client.
 */
type Call = ReturnType<typeof apiClient>;

const DAY_MS = 24 * 3_600_000;

const codeOf = async (call: Call, phone: string): Promise<string> =>
  (await call("GET", `/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`)).body.data.otp as string;

const wrong = (otp: string) => String((Number(otp) + 1) % 1_000_000).padStart(6, "0");

/** A client behind the load balancer: every request carries its address as the LB appends it. */
function behindLb(call: Call, clientAddress: string, spoofed?: string) {
  const xff = spoofed === undefined ? clientAddress : `${spoofed}, ${clientAddress}`;
  return {
    requestOtp: (phone: string) =>
      call("POST", "/api/v1/auth/request-otp", {
        body: { phone_number: phone },
        headers: { "x-forwarded-for": xff },
      }),
    verify: (phone: string, otp: string, deviceId = "device-1") =>
      call("POST", "/api/v1/auth/verify-otp", {
        body: { phone_number: phone, otp, device_id: deviceId },
        headers: { "x-forwarded-for": xff, "x-device-id": deviceId },
      }),
  };
}

describe.skipIf(!dynamoEndpoint)("abuse limits over REST", () => {
  describe("client addresses: TRUSTED_PROXIES", () => {
    it("a peer that is not a trusted proxy is the client: its X-Forwarded-For is ignored", async () => {
      // Loopback is not trusted unless listed: only the load balancers' range is.
      const fixture = await chatMgmtFixture({
        env: { TRUSTED_PROXIES: "10.0.0.0/8", OTP_REQUESTS_PER_IP: "3" },
      });
      try {
        const call = apiClient(fixture.baseUrl);
        for (let i = 0; i < 3; i++) {
          const answer = await behindLb(call, `198.51.100.${i + 1}`).requestOtp(newPhone());
          expect(answer.status).toBe(200);
        }
        const spoofed = await behindLb(call, "198.51.100.99").requestOtp(newPhone());
        expect(spoofed.status).toBe(429);
        expect(spoofed.body.error).toMatchObject({ code: "RATE_LIMITED", details: { limit: 3 } });
      } finally {
        await fixture.close();
      }
    });

    describe("behind a trusted load balancer", () => {
      let fixture: ChatMgmtFixture;
      let call: Call;
      beforeAll(async () => {
        fixture = await chatMgmtFixture({
          env: { TRUSTED_PROXIES: "127.0.0.1/32", OTP_REQUESTS_PER_IP: "10", OTP_VERIFIES_PER_IP: "10" },
        });
        call = apiClient(fixture.baseUrl);
      });
      afterAll(async () => fixture?.close());
      // Fresh windows for every test (the longest per-IP window is request-otp's 15 minutes).
      beforeEach(() => fixture.clock.advance(900_000));

      it("OTP requests are counted per client: one client at its limit does not lock out the others", async () => {
        const mallory = behindLb(call, "198.51.100.7");
        for (let i = 0; i < 10; i++) expect((await mallory.requestOtp(newPhone())).status).toBe(200);
        const limited = await mallory.requestOtp(newPhone());
        expect(limited.status).toBe(429);
        expect(limited.body.error).toMatchObject({ code: "RATE_LIMITED", details: { limit: 10 } });
        // Another user behind the same load balancer still gets codes.
        const alice = behindLb(call, "203.0.113.20");
        expect((await alice.requestOtp(newPhone())).status).toBe(200);
        expect((await behindLb(call, "2001:db8::20").requestOtp(newPhone())).status).toBe(200);
      });

      it("spoofed leftmost X-Forwarded-For entries do not buy a client new addresses", async () => {
        for (let i = 0; i < 10; i++) {
          const answer = await behindLb(call, "198.51.100.8", `192.0.2.${i + 1}`).requestOtp(newPhone());
          expect(answer.status).toBe(200);
        }
        const limited = await behindLb(call, "198.51.100.8", "192.0.2.200").requestOtp(newPhone());
        expect(limited.status).toBe(429);
        expect((await behindLb(call, "198.51.100.9").requestOtp(newPhone())).status).toBe(200);
      });

      it("an address that burns victims' verify attempts is stopped per IP first, and stops costing phones", async () => {
        const mallory = behindLb(call, "198.51.100.66");
        const victim = behindLb(call, "203.0.113.50");
        // Two phones' worth of wrong codes (5 each) spend Mallory's 10 attempts.
        for (const phone of [newPhone(), newPhone()]) {
          expect((await victim.requestOtp(phone)).status).toBe(200);
          const code = await codeOf(call, phone);
          for (let i = 0; i < 5; i++) expect((await mallory.verify(phone, wrong(code))).status).toBe(401);
        }
        // A third phone: Mallory is refused before its attempts count against the phone.
        const phone = newPhone();
        expect((await victim.requestOtp(phone)).status).toBe(200);
        const code = await codeOf(call, phone);
        for (let i = 0; i < 5; i++) {
          const refused = await mallory.verify(phone, wrong(code));
          expect(refused.status).toBe(429);
          expect(refused.body.error).toMatchObject({ code: "RATE_LIMITED", details: { limit: 10 } });
        }
        // The phone's owner, elsewhere behind the same load balancer, logs in with the right code.
        const mine = await victim.verify(phone, code);
        expect(mine.status).toBe(201);
      });
    });
  });

  describe("OTP verification limits (spec §3.4: 5 per phone per 5 minutes)", () => {
    let fixture: ChatMgmtFixture;
    let call: Call;
    beforeAll(async () => {
      fixture = await chatMgmtFixture();
      call = apiClient(fixture.baseUrl);
    });
    afterAll(async () => fixture?.close());
    beforeEach(() => fixture.clock.advance(300_000));

    const verify = (phone: string, otp: string, deviceId = "device-1") =>
      call("POST", "/api/v1/auth/verify-otp", {
        body: { phone_number: phone, otp, device_id: deviceId },
        headers: { "x-device-id": deviceId },
      });

    it("wrong codes count while the code is verified: the 6th attempt in the window is 429", async () => {
      const phone = newPhone();
      expect((await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } })).status).toBe(
        200,
      );
      const code = await codeOf(call, phone);
      expect((await verify(phone, code)).status).toBe(201);
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) answers.push((await verify(phone, wrong(code))).status);
      expect(answers).toEqual([401, 401, 401, 401, 429]);
      const refused = await verify(phone, wrong(code));
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({
        code: "RATE_LIMITED",
        details: { limit: 5, window_seconds: 300 },
      });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    });

    it("attempts count for a phone without any code too, and the window's end lifts the limit", async () => {
      const phone = newPhone();
      const answers: number[] = [];
      for (let i = 0; i < 6; i++) answers.push((await verify(phone, "123456")).status);
      expect(answers).toEqual([401, 401, 401, 401, 401, 429]);
      fixture.clock.advance(300_000);
      expect((await verify(phone, "123456")).status).toBe(401);
    });
  });

  describe("group limits", () => {
    let fixture: ChatMgmtFixture;
    let call: Call;
    beforeAll(async () => {
      fixture = await chatMgmtFixture();
      call = apiClient(fixture.baseUrl);
    });
    afterAll(async () => fixture?.close());

    const createGroup = (token: string, memberIds: readonly string[], name = "Team") =>
      call("POST", "/api/v1/chats", { token, body: { type: "group", name, member_ids: memberIds } });

    /** `count` memberships of `userId` in chats that exist only as memberships (enough for the counts). */
    const seedMemberships = async (userId: string, count: number, role: MemberRole) => {
      const now = fixture.clock.now();
      for (let start = 0; start < count; start += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - start) }, () =>
            fixture.stores.chatStore.addMembership({
              chatId: fixture.ids.chat() as ChatId,
              userId: userId as UserId,
              role,
              joinedAt: now,
              updatedAt: now,
            }),
          ),
        );
      }
    };

    it("a user creates at most 20 groups per day: the 21st is 429 until the next day", async () => {
      // Start just after a UTC midnight, so the 21 creations share one day.
      fixture.clock.advance(Math.ceil(fixture.clock.now() / DAY_MS) * DAY_MS + 1000 - fixture.clock.now());
      const [creator, member] = [await login(call), await login(call)];
      for (let i = 0; i < 20; i++) {
        expect((await createGroup(creator.accessToken, [member.userId], `Team ${i}`)).status).toBe(201);
      }
      const refused = await createGroup(creator.accessToken, [member.userId]);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({
        code: "RATE_LIMITED",
        details: { limit: 20, window_seconds: 86_400 },
      });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      // Direct chats are not groups; another user's budget is their own.
      expect(
        (
          await call("POST", "/api/v1/chats", {
            token: creator.accessToken,
            body: { type: "direct", member_ids: [member.userId] },
          })
        ).status,
      ).toBe(201);
      expect((await createGroup(member.accessToken, [creator.userId])).status).toBe(201);
      fixture.clock.advance(DAY_MS);
      // A new day: the creator's tokens expired with the clock, so log in again.
      const again = await login(call, creator.phone, "device-2");
      expect((await createGroup(again.accessToken, [member.userId])).status).toBe(201);
    });

    it("a user owns at most 500 groups: the 501st is 400 INVALID_OPERATION", async () => {
      const [creator, member] = [await login(call), await login(call)];
      await seedMemberships(creator.userId, 499, "owner");
      expect((await createGroup(creator.accessToken, [member.userId])).status).toBe(201);
      const refused = await createGroup(creator.accessToken, [member.userId]);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: "INVALID_OPERATION",
        details: { reason: "max_groups_per_user", max_groups_per_user: 500 },
      });
      // Being a member of groups others own is not owning them.
      expect((await createGroup(member.accessToken, [creator.userId])).status).toBe(201);
    });

    it("adding a member who is in max_chats_per_user chats is refused; so is a new chat with them", async () => {
      const root = await call("GET", "/api/v1/");
      const maxChats = root.body.data.capabilities.max_chats_per_user as number;
      expect(maxChats).toBe(1000);
      const [owner, member, busy] = [await login(call), await login(call), await login(call)];
      const group = await createGroup(owner.accessToken, [member.userId]);
      expect(group.status).toBe(201);
      const chatId = group.body.data.chat_id as string;
      await seedMemberships(busy.userId, maxChats - 1, "member");
      // One place left: the direct chat takes it.
      expect(
        (
          await call("POST", "/api/v1/chats", {
            token: owner.accessToken,
            body: { type: "direct", member_ids: [busy.userId] },
          })
        ).status,
      ).toBe(201);
      const refused = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: busy.userId },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: "INVALID_OPERATION",
        details: { reason: "max_chats_per_user", max_chats_per_user: maxChats, user_ids: [busy.userId] },
      });
      expect((await createGroup(owner.accessToken, [member.userId, busy.userId])).status).toBe(400);
      expect(
        (
          await call("POST", "/api/v1/chats", {
            token: member.accessToken,
            body: { type: "direct", member_ids: [busy.userId] },
          })
        ).body.error.code,
      ).toBe("INVALID_OPERATION");
      const members = await call("GET", `/api/v1/chats/${chatId}`, { token: owner.accessToken });
      expect(members.body.data.member_count).toBe(2);
    });
  });

  describe("refresh tokens and input hygiene", () => {
    let fixture: ChatMgmtFixture;
    let call: Call;
    beforeAll(async () => {
      fixture = await chatMgmtFixture();
      call = apiClient(fixture.baseUrl);
    });
    afterAll(async () => fixture?.close());

    it("a rotated-out refresh token replayed with another X-Device-ID still revokes the family", async () => {
      const me = await login(call);
      const rotated = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": me.deviceId },
      });
      expect(rotated.status).toBe(200);
      const current = rotated.body.data.tokens;
      const replay = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": "thief-device" },
      });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe("INVALID_REFRESH_TOKEN");
      const afterwards = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: current.refresh_token },
        headers: { "x-device-id": me.deviceId },
      });
      expect(afterwards.status).toBe(401);
      expect(afterwards.body.error.code).toBe("INVALID_REFRESH_TOKEN");
      const access = await call("GET", "/api/v1/users/me", { token: current.access_token });
      expect(access.status).toBe(401);
      expect(access.body.error.details.reason).toBe("session_revoked");
    });

    it("the current refresh token from another device is DEVICE_MISMATCH and leaves the session alone", async () => {
      const me = await login(call);
      const other = await call("POST", "/api/v1/auth/refresh", {
        body: { refresh_token: me.refreshToken },
        headers: { "x-device-id": "thief-device" },
      });
      expect(other.body.error.code).toBe("DEVICE_MISMATCH");
      expect((await call("GET", "/api/v1/users/me", { token: me.accessToken })).status).toBe(200);
    });

    it("device_id is at most 64 characters over REST, as at the WebSocket handshake", async () => {
      const verifyWith = async (deviceId: string) => {
        const phone = newPhone();
        await call("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
        return call("POST", "/api/v1/auth/verify-otp", {
          body: { phone_number: phone, otp: await codeOf(call, phone), device_id: deviceId },
          headers: { "x-device-id": deviceId },
        });
      };
      const tooLong = await verifyWith("d".repeat(65));
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.code).toBe("VALIDATION_ERROR");
      expect(tooLong.body.error.details.field_errors[0].field).toBe("device_id");
      expect((await verifyWith("d".repeat(64))).status).toBe(201);
    });

    it("names with bidi controls or zero-width characters are refused; emoji ZWJ sequences are kept", async () => {
      const me = await login(call);
      const friend = await login(call);
      const spoofs = [
        "evil\u202Egnp.exe", // RIGHT-TO-LEFT OVERRIDE
        "Ada\u2066x\u2069", // isolates
        "Ad\u200Ba", // ZERO WIDTH SPACE
        "Ad\u200Da", // a joiner between letters
        "Ada\u200E", // LEFT-TO-RIGHT MARK
        "A\u2060da", // WORD JOINER
        "A\uFEFFda", // BOM inside
        "A\u00ADda", // SOFT HYPHEN (Cf)
        "Ada\u0085", // C1 control
      ];
      for (const name of spoofs) {
        const patched = await call("PATCH", "/api/v1/users/me", {
          token: me.accessToken,
          body: { display_name: name },
        });
        expect(patched.status, JSON.stringify(name)).toBe(400);
        expect(patched.body.error.code).toBe("VALIDATION_ERROR");
        expect(patched.body.error.details.field_errors[0]).toMatchObject({
          field: "display_name",
          code: "INVALID_CHARACTERS",
        });
        const group = await call("POST", "/api/v1/chats", {
          token: me.accessToken,
          body: { type: "group", name, member_ids: [friend.userId] },
        });
        expect(group.status, JSON.stringify(name)).toBe(400);
        expect(group.body.error.details.field_errors[0].field).toBe("name");
      }
      const created = await call("POST", "/api/v1/chats", {
        token: me.accessToken,
        body: { type: "group", name: "Team", member_ids: [friend.userId] },
      });
      const renamed = await call("PATCH", `/api/v1/chats/${created.body.data.chat_id}`, {
        token: me.accessToken,
        body: { name: "Team\u202E" },
      });
      expect(renamed.status).toBe(400);
      for (const name of [
        "👩‍💻 Ada",
        "🏳️‍🌈",
        "👩🏽‍🚀 crew",
        "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        "Zoë",
      ]) {
        const patched = await call("PATCH", "/api/v1/users/me", {
          token: me.accessToken,
          body: { display_name: name },
        });
        expect(patched.status, name).toBe(200);
        expect(patched.body.data.display_name).toBe(name);
      }
    });
  });
});
