import { randomUUID } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import {
  call,
  devOtp,
  type ErrorEnvelope,
  type Json,
  login,
  newDevice,
  newPhone,
  type User,
} from "./support/rest.js";
import { randomUlid, World } from "./support/world.js";
import { ISO_MS } from "./support/ws-client.js";

/**
 * spec/rest-data-auth-chats.md, the rules a client relies on: the success and error envelopes (§1), phone
 * login with the dev one-time code and token refresh (§3), chats and members (§2, §2.1, §5) and history
 * paging (§2.2), including REST-08 (WebSocket and REST show the same message fields).
 */
const engines = engineEnv();
const ULID = "[0-9A-HJKMNP-TV-Z]{26}";
const READS_PER_MINUTE = 40;

describe.skipIf(!engines)(
  "conformance: REST envelope, auth, chats and history (rest spec §1–§3)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    let alice: User;
    let bob: User;
    let carol: User;

    beforeAll(async () => {
      world = await World.start({ env: { REST_READS_PER_MINUTE: String(READS_PER_MINUTE) } });
      [alice, bob, carol] = (await world.users(3)) as [User, User, User];
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      await world?.stop();
    }, HOOK_TIMEOUT_MS);

    const rest = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
      call<Json>(world.baseUrl, method, path, options);

    function expectErrorEnvelope(
      answer: { status: number; headers: Headers; body: unknown },
      status: number,
      code: string,
    ) {
      expect(answer.status).toBe(status);
      const body = answer.body as ErrorEnvelope;
      expect(body.error).toEqual(
        expect.objectContaining({ code, message: expect.any(String), request_id: expect.any(String) }),
      );
      expect(body.error.request_id).not.toBe("");
      expect(answer.headers.get("x-request-id")).toBe(body.error.request_id);
      return body.error;
    }

    describe("§1 envelopes and headers", () => {
      it("§1 error envelope {error: {code, message, request_id}}: a request without a token -> 401 UNAUTHORIZED", async () => {
        expectErrorEnvelope(await rest("GET", "/api/v1/chats"), 401, "UNAUTHORIZED");
      });

      it("§1 X-Request-ID: the client's id is echoed in the header and the error body", async () => {
        const id = randomUUID();
        const answer = await rest("GET", "/api/v1/chats", { headers: { "x-request-id": id } });
        expect(expectErrorEnvelope(answer, 401, "UNAUTHORIZED").request_id).toBe(id);
      });

      it("§1: a tampered bearer token -> 401 UNAUTHORIZED (authentication_required)", async () => {
        const [header, payload] = alice.accessToken.split(".");
        const answer = await rest("GET", "/api/v1/chats", { token: `${header}.${payload}.AAAA` });
        expectErrorEnvelope(answer, 401, "UNAUTHORIZED");
      });

      it("§1 success envelope {data} with X-Request-ID and X-RateLimit-Limit/-Remaining/-Reset", async () => {
        const answer = await rest("GET", "/api/v1/users/me", { token: alice.accessToken });
        expect(answer.status).toBe(200);
        expect(answer.body.data).toMatchObject({ user_id: alice.userId, phone_number: alice.phone });
        expect(answer.headers.get("x-request-id")).toEqual(expect.any(String));
        expect(Number(answer.headers.get("x-ratelimit-limit"))).toBeGreaterThan(0);
        expect(Number(answer.headers.get("x-ratelimit-remaining"))).toBeGreaterThanOrEqual(0);
        expect(Number(answer.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
      });

      it("§1 headers out: every response has X-Request-ID and X-RateLimit-Limit/-Remaining/-Reset — unauthenticated ones too", async () => {
        const answers = [
          await rest("POST", "/api/v1/auth/request-otp", { body: { phone_number: newPhone() } }),
          await rest("GET", "/api/v1/chats"),
        ];
        for (const answer of answers) {
          expect(answer.headers.get("x-request-id")).toEqual(expect.any(String));
          for (const header of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]) {
            expect(answer.headers.get(header), header).toMatch(/^\d+$/);
          }
        }
      });

      it('§2 GET /health -> 200 {status: "healthy", timestamp} without the envelope', async () => {
        const answer = await rest("GET", "/health");
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual(
          expect.objectContaining({ status: "healthy", timestamp: expect.stringMatching(ISO_MS) }),
        );
      });

      // §2 names only /health as unwrapped, so GET / answers in §1's success envelope {data}.
      it('§2 GET /api/v1/ -> {data: {version, api_version: "v1", capabilities}} without a token', async () => {
        const answer = await rest("GET", "/api/v1/");
        expect(answer.status).toBe(200);
        expect(answer.body.data).toMatchObject({
          api_version: "v1",
          capabilities: {
            max_message_size_bytes: 4096,
            supported_content_types: ["text/plain"],
            websocket_protocol_version: 1,
          },
        });
      });

      it("§1 validation: field violations -> 400 VALIDATION_ERROR with details.field_errors [{field, code, message}]", async () => {
        const answer = await rest("POST", "/api/v1/chats", {
          token: alice.accessToken,
          body: { type: "group", member_ids: [bob.userId] },
        });
        const error = expectErrorEnvelope(answer, 400, "VALIDATION_ERROR");
        const fieldErrors = error.details?.field_errors as Array<Record<string, unknown>>;
        expect(fieldErrors.length).toBeGreaterThan(0);
        for (const fieldError of fieldErrors) {
          expect(fieldError).toEqual(
            expect.objectContaining({
              field: expect.any(String),
              code: expect.any(String),
              message: expect.any(String),
            }),
          );
        }
      });

      it("§1: a body that is not JSON -> 400 with the error envelope", async () => {
        const answer = await rest("POST", "/api/v1/chats", { token: alice.accessToken, rawBody: "{nope" });
        expect(answer.status).toBe(400);
        expect(["BAD_REQUEST", "VALIDATION_ERROR"]).toContain((answer.body as ErrorEnvelope).error.code);
        expectErrorEnvelope(answer, 400, (answer.body as ErrorEnvelope).error.code);
      });

      it("§1 limits: a body over 64 KB -> 413 PAYLOAD_TOO_LARGE with Retry-After: 0", async () => {
        const answer = await rest("POST", "/api/v1/chats", {
          token: alice.accessToken,
          body: { type: "group", name: "x", member_ids: [bob.userId], pad: "p".repeat(65_536) },
        });
        expectErrorEnvelope(answer, 413, "PAYLOAD_TOO_LARGE");
        expect(answer.headers.get("retry-after")).toBe("0");
      });

      it("§1: an unknown route under /api/v1 -> 404 NOT_FOUND in the envelope", async () => {
        expectErrorEnvelope(
          await rest("GET", "/api/v1/no-such-thing", { token: alice.accessToken }),
          404,
          "NOT_FOUND",
        );
      });

      it("§1 rate limits: past the per-user read limit -> 429 RATE_LIMITED with Retry-After > 0 (REST-06)", async () => {
        const user = await world.user();
        let last = await rest("GET", "/api/v1/users/me", { token: user.accessToken });
        // Bounded: the limit is configured to READS_PER_MINUTE for this platform.
        for (let i = 0; i < READS_PER_MINUTE + 5 && last.status === 200; i++) {
          last = await rest("GET", "/api/v1/users/me", { token: user.accessToken });
        }
        const error = expectErrorEnvelope(last, 429, "RATE_LIMITED");
        expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(last.headers.get("x-ratelimit-remaining")).toBe("0");
        expect(error.details).toMatchObject({ retry_after_seconds: expect.any(Number) });
      });
    });

    describe("§3 login with phone and dev one-time code", () => {
      it("§2/§3.1 request-otp -> 200 {phone_number, expires_at, retry_after_seconds}; the dev code is 6 digits", async () => {
        const phone = newPhone();
        const answer = await rest("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
        expect(answer.status).toBe(200);
        expect(answer.body.data).toEqual(
          expect.objectContaining({
            phone_number: phone,
            expires_at: expect.stringMatching(ISO_MS),
            retry_after_seconds: expect.any(Number),
          }),
        );
        expect(await devOtp(world.baseUrl, phone)).toMatch(/^\d{6}$/);
      });

      it("§3.2 verify-otp: 201 for a new user, 200 for an existing one, with user, session and tokens", async () => {
        const phone = newPhone();
        const device = newDevice();
        const verify = async () => {
          await rest("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
          const otp = await devOtp(world.baseUrl, phone);
          return rest("POST", "/api/v1/auth/verify-otp", {
            body: { phone_number: phone, otp, device_id: device },
            headers: { "x-device-id": device },
          });
        };
        const first = await verify();
        expect(first.status).toBe(201);
        expect(first.body.data).toEqual({
          user: expect.objectContaining({
            user_id: expect.stringMatching(new RegExp(`^user_${ULID}$`)),
            phone_number: phone,
            created_at: expect.stringMatching(ISO_MS),
          }),
          session: expect.objectContaining({
            session_id: expect.stringMatching(new RegExp(`^sess_${ULID}$`)),
            device_id: device,
            created_at: expect.stringMatching(ISO_MS),
            expires_at: expect.stringMatching(ISO_MS),
          }),
          tokens: expect.objectContaining({
            access_token: expect.any(String),
            refresh_token: expect.any(String),
            token_type: "Bearer",
            expires_in: expect.any(Number),
          }),
          is_new_user: true,
        });
        const again = await verify();
        expect(again.status).toBe(200);
        expect(again.body.data.is_new_user).toBe(false);
        expect(again.body.data.user.user_id).toBe(first.body.data.user.user_id);
      });

      it("§3.3 access JWT: RS256 with kid; sub = user_id, iss, aud = messaging-api, iat, exp, jti, sid", async () => {
        const header = decodeProtectedHeader(alice.accessToken);
        expect(header).toMatchObject({ alg: "RS256", kid: expect.any(String) });
        const claims = decodeJwt(alice.accessToken);
        expect(claims).toMatchObject({
          sub: alice.userId,
          iss: "messaging-platform",
          aud: "messaging-api",
          iat: expect.any(Number),
          exp: expect.any(Number),
          jti: expect.any(String),
          sid: alice.sessionId,
        });
        const lifetime = (claims.exp ?? 0) - (claims.iat ?? 0);
        expect(lifetime).toBeGreaterThanOrEqual(15 * 60);
        expect(lifetime).toBeLessThanOrEqual(60 * 60);
      });

      it("§3.1 a wrong code -> 401 INVALID_OTP", async () => {
        const phone = newPhone();
        await rest("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
        const otp = await devOtp(world.baseUrl, phone);
        const wrong = otp === "000000" ? "111111" : "000000";
        const device = newDevice();
        const answer = await rest("POST", "/api/v1/auth/verify-otp", {
          body: { phone_number: phone, otp: wrong, device_id: device },
          headers: { "x-device-id": device },
        });
        expectErrorEnvelope(answer, 401, "INVALID_OTP");
      });

      it("§3.2 X-Device-ID MUST equal device_id -> otherwise 401 DEVICE_MISMATCH", async () => {
        const phone = newPhone();
        await rest("POST", "/api/v1/auth/request-otp", { body: { phone_number: phone } });
        const otp = await devOtp(world.baseUrl, phone);
        const answer = await rest("POST", "/api/v1/auth/verify-otp", {
          body: { phone_number: phone, otp, device_id: newDevice() },
          headers: { "x-device-id": newDevice() },
        });
        expectErrorEnvelope(answer, 401, "DEVICE_MISMATCH");
      });

      it("§3.3 refresh rotates the refresh token; reusing the old one -> 401 INVALID_REFRESH_TOKEN and revokes the family", async () => {
        const user = await login(world.baseUrl);
        const refresh = (refreshToken: string, accessToken: string) =>
          rest("POST", "/api/v1/auth/refresh", {
            token: accessToken,
            body: { refresh_token: refreshToken },
            headers: { "x-device-id": user.deviceId },
          });
        const rotated = await refresh(user.refreshToken, user.accessToken);
        expect(rotated.status).toBe(200);
        const tokens = rotated.body.data.tokens;
        expect(tokens).toMatchObject({
          access_token: expect.any(String),
          refresh_token: expect.any(String),
          token_type: "Bearer",
        });
        expect(tokens.refresh_token).not.toBe(user.refreshToken);
        expectErrorEnvelope(
          await refresh(user.refreshToken, tokens.access_token),
          401,
          "INVALID_REFRESH_TOKEN",
        );
        expectErrorEnvelope(
          await refresh(tokens.refresh_token, tokens.access_token),
          401,
          "INVALID_REFRESH_TOKEN",
        );
      });
    });

    describe("§2.1/§5 chats and members", () => {
      it("§2.1 direct chat: 201 with the chat detail; the same pair again -> 200 with X-Idempotent-Replay and the same chat (direct_chat_uniqueness)", async () => {
        const [x, y] = await world.users(2);
        const create = () =>
          rest("POST", "/api/v1/chats", {
            token: x?.accessToken,
            body: { type: "direct", member_ids: [y?.userId] },
          });
        const first = await create();
        expect(first.status).toBe(201);
        expect(first.body.data).toEqual(
          expect.objectContaining({
            chat_id: expect.stringMatching(new RegExp(`^chat_${ULID}$`)),
            type: "direct",
            created_by: x?.userId,
            created_at: expect.stringMatching(ISO_MS),
            updated_at: expect.stringMatching(ISO_MS),
            member_count: 2,
          }),
        );
        const members = first.body.data.members as Array<Record<string, unknown>>;
        expect(members.map((m) => m.user_id).sort()).toEqual([x?.userId, y?.userId].sort());
        for (const member of members) {
          expect(member).toEqual(
            expect.objectContaining({ role: "member", joined_at: expect.stringMatching(ISO_MS) }),
          );
          expect("display_name" in member).toBe(true);
        }
        const second = await rest("POST", "/api/v1/chats", {
          token: y?.accessToken,
          body: { type: "direct", member_ids: [x?.userId] },
        });
        expect(second.status).toBe(200);
        expect(second.headers.get("x-idempotent-replay")).toBe("true");
        expect(second.body.data.chat_id).toBe(first.body.data.chat_id);
        expect((await create()).body.data.chat_id).toBe(first.body.data.chat_id);
      });

      it("§2.1 group chat: the creator is owner, the others members; name is required; direct takes exactly one id", async () => {
        const created = await rest("POST", "/api/v1/chats", {
          token: alice.accessToken,
          body: { type: "group", name: "team", member_ids: [bob.userId, carol.userId] },
        });
        expect(created.status).toBe(201);
        expect(created.body.data).toMatchObject({ type: "group", name: "team", member_count: 3 });
        const roles = Object.fromEntries(
          (created.body.data.members as Array<{ user_id: string; role: string }>).map((m) => [
            m.user_id,
            m.role,
          ]),
        );
        expect(roles).toEqual({ [alice.userId]: "owner", [bob.userId]: "member", [carol.userId]: "member" });
        const twoDirect = await rest("POST", "/api/v1/chats", {
          token: alice.accessToken,
          body: { type: "direct", member_ids: [bob.userId, carol.userId] },
        });
        expect(twoDirect.status).toBe(400);
        expect(["VALIDATION_ERROR", "BAD_REQUEST", "INVALID_OPERATION"]).toContain(
          (twoDirect.body as ErrorEnvelope).error.code,
        );
      });

      it("§1 idempotency: the same Idempotency-Key and body replays the chat; another body -> 409 IDEMPOTENCY_KEY_REUSED", async () => {
        const key = randomUUID();
        const body = { type: "group", name: "idempotent", member_ids: [bob.userId] };
        const headers = { "idempotency-key": key };
        const first = await rest("POST", "/api/v1/chats", { token: alice.accessToken, body, headers });
        expect(first.status).toBe(201);
        const replay = await rest("POST", "/api/v1/chats", { token: alice.accessToken, body, headers });
        expect([200, 201]).toContain(replay.status);
        expect(replay.headers.get("x-idempotent-replay")).toBe("true");
        expect(replay.body.data.chat_id).toBe(first.body.data.chat_id);
        const other = await rest("POST", "/api/v1/chats", {
          token: alice.accessToken,
          body: { ...body, name: "something else" },
          headers,
        });
        expectErrorEnvelope(other, 409, "IDEMPOTENCY_KEY_REUSED");
      });

      it("§2 GET /chats/{id}: detail + current_sequence + my_membership; a non-member -> 403 NOT_A_MEMBER; an unknown chat -> 404 NOT_FOUND", async () => {
        const chat = await world.chat(alice, bob);
        const detail = await rest("GET", `/api/v1/chats/${chat}`, { token: bob.accessToken });
        expect(detail.status).toBe(200);
        expect(detail.body.data).toMatchObject({
          chat_id: chat,
          current_sequence: 0,
          my_membership: { role: "member", joined_at: expect.stringMatching(ISO_MS), last_acked_sequence: 0 },
        });
        expect("muted_until" in detail.body.data.my_membership).toBe(true);
        expectErrorEnvelope(
          await rest("GET", `/api/v1/chats/${chat}`, { token: carol.accessToken }),
          403,
          "NOT_A_MEMBER",
        );
        expectErrorEnvelope(
          await rest("GET", `/api/v1/chats/chat_${randomUlid()}`, { token: carol.accessToken }),
          404,
          "NOT_FOUND",
        );
      });

      it("§1/§2 GET /chats lists the caller's chats with pagination {has_more, next_cursor, prev_cursor}; pages never repeat or skip", async () => {
        const [owner, member] = await world.users(2);
        if (owner === undefined || member === undefined) throw new Error("no users");
        const made = await Promise.all([1, 2, 3].map(() => world.chat(owner, member)));
        const first = await rest("GET", "/api/v1/chats?limit=2", { token: member.accessToken });
        expect(first.status).toBe(200);
        expect(first.body.data).toHaveLength(2);
        expect(first.body.pagination).toEqual({
          has_more: true,
          next_cursor: expect.any(String),
          prev_cursor: null,
        });
        const second = await rest(
          "GET",
          `/api/v1/chats?limit=2&cursor=${encodeURIComponent(first.body.pagination.next_cursor)}`,
          { token: member.accessToken },
        );
        expect(second.body.pagination).toMatchObject({ has_more: false, next_cursor: null });
        const ids = [...first.body.data, ...second.body.data].map((c: { chat_id: string }) => c.chat_id);
        expect(ids.sort()).toEqual([...made].sort());
        for (const item of first.body.data) {
          expect(item).toEqual(
            expect.objectContaining({
              chat_id: expect.any(String),
              type: "group",
              my_membership: expect.objectContaining({ role: "member" }),
              pending_ack_count: expect.any(Number),
            }),
          );
          expect("last_message" in item).toBe(true);
        }
      });

      it("§2/§5 members: add -> 201 M + added_by; again -> 409 ALREADY_A_MEMBER; a plain member adding -> 403 FORBIDDEN; remove -> 204; leave -> 204", async () => {
        const [owner, member, newcomer, outsider] = await world.users(4);
        if (!owner || !member || !newcomer || !outsider) throw new Error("no users");
        const chat = await world.chat(owner, member);
        const added = await rest("POST", `/api/v1/chats/${chat}/members`, {
          token: owner.accessToken,
          body: { user_id: newcomer.userId },
        });
        expect(added.status).toBe(201);
        expect(added.body.data).toEqual(
          expect.objectContaining({
            chat_id: chat,
            user_id: newcomer.userId,
            role: "member",
            joined_at: expect.stringMatching(ISO_MS),
            added_by: owner.userId,
          }),
        );
        expectErrorEnvelope(
          await rest("POST", `/api/v1/chats/${chat}/members`, {
            token: owner.accessToken,
            body: { user_id: newcomer.userId },
          }),
          409,
          "ALREADY_A_MEMBER",
        );
        expectErrorEnvelope(
          await rest("POST", `/api/v1/chats/${chat}/members`, {
            token: member.accessToken,
            body: { user_id: outsider.userId },
          }),
          403,
          "FORBIDDEN",
        );
        const listed = await rest("GET", `/api/v1/chats/${chat}/members`, { token: member.accessToken });
        expect((listed.body.data as Array<{ user_id: string }>).map((m) => m.user_id).sort()).toEqual(
          [owner.userId, member.userId, newcomer.userId].sort(),
        );
        const removed = await rest("DELETE", `/api/v1/chats/${chat}/members/${newcomer.userId}`, {
          token: owner.accessToken,
        });
        expect(removed.status).toBe(204);
        const left = await rest("POST", `/api/v1/chats/${chat}/leave`, { token: member.accessToken });
        expect(left.status).toBe(204);
        expectErrorEnvelope(
          await rest("GET", `/api/v1/chats/${chat}`, { token: member.accessToken }),
          403,
          "NOT_A_MEMBER",
        );
      });
    });

    describe("§2.2 history", () => {
      let chat: string;
      const sent: Array<Record<string, unknown>> = [];
      let push: Record<string, unknown> | undefined;
      let synced: Array<Record<string, unknown>> = [];

      beforeAll(async () => {
        chat = await world.chat(alice, bob);
        const sender = await world.connect(alice);
        const receiver = await world.connect(bob);
        for (let i = 1; i <= 7; i++) sent.push((await sender.sendMessage(chat, `history ${i}`)).payload);
        push = (await receiver.next((f) => f.type === "message" && f.payload.sequence === 7)).payload;
        const page = await receiver.request("sync_request", { chat_id: chat, last_acked_sequence: 0 });
        synced = page.payload.messages as Array<Record<string, unknown>>;
        sender.close();
        receiver.close();
      }, HOOK_TIMEOUT_MS);

      const history = (query: string, user: User = bob) =>
        rest("GET", `/api/v1/chats/${chat}/messages${query}`, { token: user.accessToken });

      it("§2.2 default direction is backward (descending); items are {message_id, chat_id, sequence, sender_id, sender, content, content_type, created_at}", async () => {
        const answer = await history("");
        expect(answer.status).toBe(200);
        const items = answer.body.data as Array<Record<string, unknown>>;
        expect(items.map((m) => m.sequence)).toEqual([7, 6, 5, 4, 3, 2, 1]);
        expect(answer.body.pagination).toMatchObject({ has_more: false, next_cursor: null });
        for (const item of items) {
          expect(item).toEqual(
            expect.objectContaining({
              message_id: expect.stringMatching(/^msg_/),
              chat_id: chat,
              sender_id: alice.userId,
              sender: expect.objectContaining({ user_id: alice.userId }),
              content: `history ${item.sequence}`,
              content_type: "text/plain",
              created_at: expect.stringMatching(ISO_MS),
            }),
          );
        }
      });

      it("§2.2 paging: limit and next_cursor walk every message once, in order, both directions", async () => {
        const walk = async (direction: string) => {
          const seen: number[] = [];
          let cursor: string | null = null;
          for (let page = 0; page < 10; page++) {
            const query: string = `?limit=3&direction=${direction}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
            const answer = await history(query);
            expect(answer.status).toBe(200);
            expect(answer.body.data.length).toBeLessThanOrEqual(3);
            seen.push(...(answer.body.data as Array<{ sequence: number }>).map((m) => m.sequence));
            if (!answer.body.pagination.has_more) return seen;
            cursor = answer.body.pagination.next_cursor;
            expect(cursor).toEqual(expect.any(String));
          }
          throw new Error("paging did not end");
        };
        expect(await walk("backward")).toEqual([7, 6, 5, 4, 3, 2, 1]);
        expect(await walk("forward")).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });

      it("§2.2 before_sequence / after_sequence are exclusive and combine into a range; cursor plus a bound -> 400", async () => {
        const range = await history("?after_sequence=2&before_sequence=6&direction=forward");
        expect((range.body.data as Array<{ sequence: number }>).map((m) => m.sequence)).toEqual([3, 4, 5]);
        const before = await history("?before_sequence=3");
        expect((before.body.data as Array<{ sequence: number }>).map((m) => m.sequence)).toEqual([2, 1]);
        const first = await history("?limit=2");
        const mixed = await history(
          `?cursor=${encodeURIComponent(first.body.pagination.next_cursor)}&after_sequence=1`,
        );
        expect(mixed.status).toBe(400);
        expectErrorEnvelope(mixed, 400, (mixed.body as ErrorEnvelope).error.code);
      });

      it("§1/§2.2 limits: a history limit over 100 -> 400 VALIDATION_ERROR", async () => {
        expectErrorEnvelope(await history("?limit=101"), 400, "VALIDATION_ERROR");
      });

      it("§2.2 access: a non-member -> 403 NOT_A_MEMBER", async () => {
        expectErrorEnvelope(await history("", carol), 403, "NOT_A_MEMBER");
      });

      it("REST-08: WebSocket (ack, push, sync) and REST history show the same message fields", async () => {
        const answer = await history("?direction=forward");
        const items = answer.body.data as Array<Record<string, unknown>>;
        const last = items.find((m) => m.sequence === 7) ?? {};
        const { sender: _sender, ...wire } = last;
        expect(wire).toEqual(push);
        for (const item of items) {
          const { sender: _s, chat_id: _c, ...fields } = item;
          expect(fields).toEqual(synced.find((m) => m.sequence === item.sequence));
          const ack = sent.find((a) => a.sequence === item.sequence);
          expect(ack).toMatchObject({
            message_id: item.message_id,
            created_at: item.created_at,
            chat_id: item.chat_id,
          });
        }
      });
    });
  },
);
