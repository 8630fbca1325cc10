import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOPICS } from "../runtime/topics.js";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  type LoggedIn,
  login,
} from "../test/support/chatmgmt-fixture.js";
import { engineEndpoint } from "../test/support/engines.js";
import { waitFor } from "../test/support/wait-for.js";

const kafka = engineEndpoint("kafka");

/** Chats and membership over REST on real dynalite, lifecycle events on real Kafka. */
describe.skipIf(!dynamoEndpoint || !kafka)("chat management: chats and members", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  let owner: LoggedIn;
  let alice: LoggedIn;
  let bob: LoggedIn;
  let carol: LoggedIn;
  beforeAll(async () => {
    fixture = await chatMgmtFixture({ kafka: true, env: { MAX_GROUP_MEMBERS: "4" } });
    call = apiClient(fixture.baseUrl);
    [owner, alice, bob, carol] = await Promise.all([login(call), login(call), login(call), login(call)]);
  });
  afterAll(async () => fixture?.close());

  const eventsOf = (chatId: string, type: string) =>
    fixture.events.filter((e) => e.partition_key === chatId && e.event_type === type);
  const group = async (members: LoggedIn[], name = "Team") => {
    const response = await call("POST", "/api/v1/chats", {
      token: owner.accessToken,
      body: { type: "group", name, member_ids: members.map((m) => m.userId) },
    });
    expect(response.status).toBe(201);
    return response.body.data.chat_id as string;
  };
  /**
   * Lifecycle records of one chat reach the log in the order they were raised, so once a record raised
   * after a test's requests (`marker` added to the group) has arrived, so has every record those requests
   * raised: a duplicate would be in `fixture.events` by then.
   */
  const settled = async (chatId: string, marker: LoggedIn) => {
    const added = await call("POST", `/api/v1/chats/${chatId}/members`, {
      token: owner.accessToken,
      body: { user_id: marker.userId },
    });
    expect(added.status).toBe(201);
    await waitFor(() => membershipEventsOf(chatId, marker).length === 1, { what: "the marker's event" });
  };
  const membershipEventsOf = (chatId: string, user: LoggedIn) =>
    eventsOf(chatId, "MembershipChanged").filter(
      (e) => (e.payload as { user_id: string }).user_id === user.userId,
    );

  describe("direct chats", () => {
    it("creates a direct chat once (201); asking again returns it (200, X-Idempotent-Replay)", async () => {
      const [a, b] = [await login(call), await login(call)];
      const created = await call("POST", "/api/v1/chats", {
        token: a.accessToken,
        body: { type: "direct", name: "ignored", member_ids: [b.userId] },
      });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({
        type: "direct",
        name: null,
        created_by: a.userId,
        member_count: 2,
      });
      expect(created.body.data.members.map((m: { role: string }) => m.role)).toEqual(["member", "member"]);
      const again = await call("POST", "/api/v1/chats", {
        token: b.accessToken,
        body: { type: "direct", member_ids: [a.userId] },
      });
      expect(again.status).toBe(200);
      expect(again.headers.get("x-idempotent-replay")).toBe("true");
      expect(again.body.data.chat_id).toBe(created.body.data.chat_id);
    });

    it("concurrent creation from both sides makes one chat and publishes one ChatCreated", async () => {
      const [a, b] = [await login(call), await login(call)];
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call("POST", "/api/v1/chats", {
            token: (i % 2 === 0 ? a : b).accessToken,
            body: { type: "direct", member_ids: [(i % 2 === 0 ? b : a).userId] },
          }),
        ),
      );
      const chatIds = new Set(results.map((r) => r.body.data?.chat_id));
      expect(chatIds.size).toBe(1);
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.every((r) => r.status === 201 || r.status === 200)).toBe(true);
      const [chatId] = [...chatIds] as string[];
      await waitFor(() => eventsOf(chatId ?? "", "ChatCreated").length === 1, { what: "ChatCreated" });
      // Any duplicate has arrived once everything published with this chat's key has.
      await fixture.settled(TOPICS.chatsCreated, chatId ?? "");
      expect(eventsOf(chatId ?? "", "ChatCreated")).toHaveLength(1);
      expect(eventsOf(chatId ?? "", "ChatCreated")[0]?.payload).toMatchObject({
        chat_id: chatId,
        chat_type: "direct",
        member_count: 2,
        status: "active",
      });
      const listedA = await call("GET", "/api/v1/chats", { token: a.accessToken });
      expect(listedA.body.data.map((c: { chat_id: string }) => c.chat_id)).toEqual([chatId]);
      expect(listedA.body.data[0].other_member).toEqual({ user_id: b.userId, display_name: null });
    });

    it("refuses yourself, two others, and unknown users", async () => {
      const self = await call("POST", "/api/v1/chats", {
        token: alice.accessToken,
        body: { type: "direct", member_ids: [alice.userId] },
      });
      expect(self.status).toBe(400);
      expect(self.body.error.code).toBe("VALIDATION_ERROR");
      const two = await call("POST", "/api/v1/chats", {
        token: alice.accessToken,
        body: { type: "direct", member_ids: [bob.userId, carol.userId] },
      });
      expect(two.status).toBe(400);
      const unknown = await call("POST", "/api/v1/chats", {
        token: alice.accessToken,
        body: { type: "direct", member_ids: [fixture.ids.user()] },
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("USER_NOT_FOUND");
      const badType = await call("POST", "/api/v1/chats", {
        token: alice.accessToken,
        body: { type: "channel", member_ids: [] },
      });
      expect(badType.body.error.details.field_errors.map((e: { field: string }) => e.field).sort()).toEqual([
        "member_ids",
        "type",
      ]);
    });
  });

  describe("groups", () => {
    it("creates a group with the creator as owner; publishes ChatCreated then MembershipChanged per member", async () => {
      const response = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body: { type: "group", name: "  Launch  ", member_ids: [alice.userId, bob.userId] },
      });
      expect(response.status).toBe(201);
      const chat = response.body.data;
      expect(chat).toMatchObject({
        type: "group",
        name: "Launch",
        created_by: owner.userId,
        member_count: 3,
      });
      const roles = Object.fromEntries(
        chat.members.map((m: { user_id: string; role: string }) => [m.user_id, m.role]),
      );
      expect(roles).toEqual({ [owner.userId]: "owner", [alice.userId]: "member", [bob.userId]: "member" });
      await waitFor(() => eventsOf(chat.chat_id, "MembershipChanged").length === 3, {
        what: "MembershipChanged",
      });
      expect(eventsOf(chat.chat_id, "ChatCreated")[0]?.payload).toMatchObject({
        chat_type: "group",
        name: "Launch",
        created_by: owner.userId,
        member_count: 3,
        initial_members: [owner.userId, alice.userId, bob.userId],
      });
      // One chat's events are published in the order they were raised.
      expect(
        eventsOf(chat.chat_id, "MembershipChanged").map((e) => (e.payload as { user_id: string }).user_id),
      ).toEqual([owner.userId, alice.userId, bob.userId]);
      expect(eventsOf(chat.chat_id, "MembershipChanged")[0]).toMatchObject({
        event_version: 1,
        partition_key: chat.chat_id,
        payload: { change_type: "added", changed_by: owner.userId, member_count_after: 3 },
      });
    });

    it("a group needs a name and at most MAX_GROUP_MEMBERS members", async () => {
      const unnamed = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body: { type: "group", member_ids: [alice.userId] },
      });
      expect(unnamed.body.error).toMatchObject({
        code: "VALIDATION_ERROR",
        details: { field_errors: [{ field: "name" }] },
      });
      const extra = await login(call);
      const full = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body: {
          type: "group",
          name: "Big",
          member_ids: [alice.userId, bob.userId, carol.userId, extra.userId],
        },
      });
      expect(full.status).toBe(400);
      expect(full.body.error.code).toBe("CHAT_FULL");
    });

    it("GET /chats/{id}: members see details and their membership; others 403, unknown 404, malformed 400", async () => {
      const chatId = await group([alice]);
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: alice.accessToken });
      expect(detail.status).toBe(200);
      expect(detail.body.data).toMatchObject({
        chat_id: chatId,
        current_sequence: 0,
        my_membership: { role: "member", muted_until: null, last_acked_sequence: 0 },
      });
      const stranger = await call("GET", `/api/v1/chats/${chatId}`, { token: carol.accessToken });
      expect(stranger.status).toBe(403);
      expect(stranger.body.error.code).toBe("NOT_A_MEMBER");
      expect(
        (await call("GET", `/api/v1/chats/${fixture.ids.chat()}`, { token: alice.accessToken })).status,
      ).toBe(404);
      const malformed = await call("GET", "/api/v1/chats/chat_nope", { token: alice.accessToken });
      expect(malformed.status).toBe(400);
      const noRoute = await call("GET", `/api/v1/chats/${chatId}/nothing/here`, { token: alice.accessToken });
      expect(noRoute.status).toBe(404);
      expect(noRoute.body.error.code).toBe("NOT_FOUND");
    });

    it("rename: owner and admin may, members may not, direct chats cannot be renamed", async () => {
      const chatId = await group([alice, bob]);
      await call("PATCH", `/api/v1/chats/${chatId}/members/${alice.userId}`, {
        token: owner.accessToken,
        body: { role: "admin" },
      });
      const byOwner = await call("PATCH", `/api/v1/chats/${chatId}`, {
        token: owner.accessToken,
        body: { name: "A" },
      });
      expect(byOwner.status).toBe(200);
      expect(byOwner.body.data.name).toBe("A");
      expect(
        (await call("PATCH", `/api/v1/chats/${chatId}`, { token: alice.accessToken, body: { name: "B" } }))
          .status,
      ).toBe(200);
      const byMember = await call("PATCH", `/api/v1/chats/${chatId}`, {
        token: bob.accessToken,
        body: { name: "C" },
      });
      expect(byMember.status).toBe(403);
      expect(byMember.body.error).toMatchObject({ code: "FORBIDDEN", details: { your_role: "member" } });
      const tooLong = await call("PATCH", `/api/v1/chats/${chatId}`, {
        token: owner.accessToken,
        body: { name: "x".repeat(129) },
      });
      expect(tooLong.status).toBe(400);
      const direct = await call("POST", "/api/v1/chats", {
        token: carol.accessToken,
        body: { type: "direct", member_ids: [bob.userId] },
      });
      const renameDirect = await call("PATCH", `/api/v1/chats/${direct.body.data.chat_id}`, {
        token: carol.accessToken,
        body: { name: "x" },
      });
      expect(renameDirect.status).toBe(400);
      expect(renameDirect.body.error.code).toBe("INVALID_OPERATION");
    });

    it("add member: by role, duplicates 409, unknown users 404, the cap 400 CHAT_FULL, non-members 403", async () => {
      const chatId = await group([alice]);
      const asAdmin = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: bob.userId, role: "admin" },
      });
      expect(asAdmin.status).toBe(201);
      expect(asAdmin.body.data).toMatchObject({
        chat_id: chatId,
        user_id: bob.userId,
        role: "admin",
        added_by: owner.userId,
      });
      const memberAdds = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: alice.accessToken,
        body: { user_id: carol.userId },
      });
      expect(memberAdds.status).toBe(403);
      const adminAddsAdmin = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: bob.accessToken,
        body: { user_id: carol.userId, role: "admin" },
      });
      expect(adminAddsAdmin.body.error).toMatchObject({
        code: "FORBIDDEN",
        details: { required_role: "owner" },
      });
      const duplicate = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: alice.userId },
      });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe("ALREADY_A_MEMBER");
      const unknown = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: fixture.ids.user() },
      });
      expect(unknown.body.error.code).toBe("USER_NOT_FOUND");
      const stranger = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: carol.accessToken,
        body: { user_id: carol.userId },
      });
      expect(stranger.body.error.code).toBe("NOT_A_MEMBER");
      expect(
        (
          await call("POST", `/api/v1/chats/${chatId}/members`, {
            token: bob.accessToken,
            body: { user_id: carol.userId },
          })
        ).status,
      ).toBe(201);
      const extra = await login(call);
      const full = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: extra.userId },
      });
      expect(full.status).toBe(400);
      expect(full.body.error.code).toBe("CHAT_FULL");
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: owner.accessToken });
      expect(detail.body.data.member_count).toBe(4);
      expect(detail.body.data.members).toHaveLength(4);
    });

    it("remove member: by role; never yourself or the owner; publishes removed", async () => {
      const chatId = await group([alice, bob, carol]);
      await call("PATCH", `/api/v1/chats/${chatId}/members/${alice.userId}`, {
        token: owner.accessToken,
        body: { role: "admin" },
      });
      expect(
        (
          await call("DELETE", `/api/v1/chats/${chatId}/members/${alice.userId}`, {
            token: alice.accessToken,
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await call("DELETE", `/api/v1/chats/${chatId}/members/${owner.userId}`, {
            token: alice.accessToken,
          })
        ).status,
      ).toBe(403);
      expect(
        (await call("DELETE", `/api/v1/chats/${chatId}/members/${alice.userId}`, { token: bob.accessToken }))
          .status,
      ).toBe(403);
      expect(
        (await call("DELETE", `/api/v1/chats/${chatId}/members/${bob.userId}`, { token: alice.accessToken }))
          .status,
      ).toBe(204);
      expect(
        (await call("DELETE", `/api/v1/chats/${chatId}/members/${bob.userId}`, { token: alice.accessToken }))
          .status,
      ).toBe(404);
      expect((await call("GET", `/api/v1/chats/${chatId}`, { token: bob.accessToken })).status).toBe(403);
      expect(
        (
          await call("DELETE", `/api/v1/chats/${chatId}/members/${alice.userId}`, {
            token: owner.accessToken,
          })
        ).status,
      ).toBe(204);
      await waitFor(
        () =>
          eventsOf(chatId, "MembershipChanged").filter(
            (e) => (e.payload as { change_type: string }).change_type === "removed",
          ).length === 2,
        {
          what: "removed events",
        },
      );
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: owner.accessToken });
      expect(detail.body.data.member_count).toBe(2);
    });

    it("roles: only the owner changes them, never their own; role_changed is published", async () => {
      const chatId = await group([alice, bob]);
      const promoted = await call("PATCH", `/api/v1/chats/${chatId}/members/${alice.userId}`, {
        token: owner.accessToken,
        body: { role: "admin" },
      });
      expect(promoted.status).toBe(200);
      expect(promoted.body.data).toMatchObject({
        user_id: alice.userId,
        role: "admin",
        updated_by: owner.userId,
      });
      const byAdmin = await call("PATCH", `/api/v1/chats/${chatId}/members/${bob.userId}`, {
        token: alice.accessToken,
        body: { role: "admin" },
      });
      expect(byAdmin.status).toBe(403);
      const self = await call("PATCH", `/api/v1/chats/${chatId}/members/${owner.userId}`, {
        token: owner.accessToken,
        body: { role: "member" },
      });
      expect(self.status).toBe(400);
      const ownerRole = await call("PATCH", `/api/v1/chats/${chatId}/members/${bob.userId}`, {
        token: owner.accessToken,
        body: { role: "owner" },
      });
      expect(ownerRole.status).toBe(400);
      await waitFor(
        () =>
          eventsOf(chatId, "MembershipChanged").some(
            (e) => (e.payload as { change_type: string }).change_type === "role_changed",
          ),
        { what: "role_changed" },
      );
    });

    it("leave: members and admins may, the owner may not, direct chats cannot be left", async () => {
      const chatId = await group([alice]);
      expect((await call("POST", `/api/v1/chats/${chatId}/leave`, { token: owner.accessToken })).status).toBe(
        400,
      );
      expect((await call("POST", `/api/v1/chats/${chatId}/leave`, { token: alice.accessToken })).status).toBe(
        204,
      );
      expect((await call("POST", `/api/v1/chats/${chatId}/leave`, { token: alice.accessToken })).status).toBe(
        403,
      );
      const direct = await call("POST", "/api/v1/chats", {
        token: alice.accessToken,
        body: { type: "direct", member_ids: [carol.userId] },
      });
      const leaveDirect = await call("POST", `/api/v1/chats/${direct.body.data.chat_id}/leave`, {
        token: alice.accessToken,
      });
      expect(leaveDirect.body.error.code).toBe("INVALID_OPERATION");
    });
  });

  describe("mute", () => {
    it("members mute for some hours or indefinitely and unmute; non-members get 403", async () => {
      const chatId = await group([alice]);
      const hours = await call("POST", `/api/v1/chats/${chatId}/mute`, {
        token: alice.accessToken,
        body: { duration_hours: 8 },
      });
      expect(hours.status).toBe(200);
      expect(hours.body.data).toEqual({
        chat_id: chatId,
        muted_until: new Date(fixture.clock.now() + 8 * 3_600_000).toISOString(),
      });
      const detail = await call("GET", `/api/v1/chats/${chatId}`, { token: alice.accessToken });
      expect(detail.body.data.my_membership.muted_until).toBe(hours.body.data.muted_until);
      const forever = await call("POST", `/api/v1/chats/${chatId}/mute`, { token: alice.accessToken });
      expect(forever.body.data.muted_until).toBe("9999-12-31T23:59:59.999Z");
      const unmuted = await call("POST", `/api/v1/chats/${chatId}/unmute`, { token: alice.accessToken });
      expect(unmuted.body.data).toEqual({ chat_id: chatId, muted_until: null });
      const listed = await call("GET", "/api/v1/chats", { token: alice.accessToken });
      const item = listed.body.data.find((c: { chat_id: string }) => c.chat_id === chatId);
      expect(item.my_membership.muted_until).toBeNull();
      const tooLong = await call("POST", `/api/v1/chats/${chatId}/mute`, {
        token: alice.accessToken,
        body: { duration_hours: 8761 },
      });
      expect(tooLong.status).toBe(400);
      const stranger = await call("POST", `/api/v1/chats/${chatId}/mute`, {
        token: carol.accessToken,
        body: {},
      });
      expect(stranger.status).toBe(403);
    });
  });

  describe("Idempotency-Key", () => {
    it("a replayed chat creation returns the same chat without a second side effect", async () => {
      const key = randomUUID();
      const body = { type: "group", name: "Once", member_ids: [alice.userId] };
      const first = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      const second = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get("x-idempotent-replay")).toBe("true");
      expect(first.headers.get("x-idempotent-replay")).toBeNull();
      expect(second.body.data).toEqual(first.body.data);
      const chatId = first.body.data.chat_id;
      await settled(chatId, carol);
      expect(eventsOf(chatId, "ChatCreated")).toHaveLength(1);
      const reused = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body: { ...body, name: "Other" },
        headers: { "idempotency-key": key },
      });
      expect(reused.status).toBe(409);
      expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      // Keys are per user: another user's identical key is a new request.
      const otherUser = await call("POST", "/api/v1/chats", {
        token: bob.accessToken,
        body: { type: "group", name: "Once", member_ids: [alice.userId] },
        headers: { "idempotency-key": key },
      });
      expect(otherUser.body.data.chat_id).not.toBe(chatId);
    });

    it("a replayed direct-chat request answers the pair's chat, also when it already existed", async () => {
      const [x, y] = [await login(call), await login(call)];
      const existing = await call("POST", "/api/v1/chats", {
        token: y.accessToken,
        body: { type: "direct", member_ids: [x.userId] },
      });
      const key = randomUUID();
      const body = { type: "direct", member_ids: [y.userId] };
      const first = await call("POST", "/api/v1/chats", {
        token: x.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      const replay = await call("POST", "/api/v1/chats", {
        token: x.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      expect(first.status).toBe(200);
      expect(replay.status).toBe(200);
      expect(replay.headers.get("x-idempotent-replay")).toBe("true");
      expect(first.body.data.chat_id).toBe(existing.body.data.chat_id);
      expect(replay.body.data.chat_id).toBe(existing.body.data.chat_id);
    });

    it("concurrent requests with one key create one chat", async () => {
      const key = randomUUID();
      const body = { type: "group", name: "Race", member_ids: [bob.userId] };
      const results = await Promise.all(
        [1, 2, 3, 4].map(() =>
          call("POST", "/api/v1/chats", {
            token: owner.accessToken,
            body,
            headers: { "idempotency-key": key },
          }),
        ),
      );
      expect(new Set(results.map((r) => r.body.data?.chat_id)).size).toBe(1);
      expect(results.every((r) => r.status === 201)).toBe(true);
      const chatId = results[0]?.body.data.chat_id;
      await settled(chatId, carol);
      expect(eventsOf(chatId, "ChatCreated")).toHaveLength(1);
      expect(eventsOf(chatId, "MembershipChanged")).toHaveLength(3);
      expect(membershipEventsOf(chatId, owner)).toHaveLength(1);
      expect(membershipEventsOf(chatId, bob)).toHaveLength(1);
    });

    it("a replayed member add answers 201 again and publishes one added event; another body is 409", async () => {
      const chatId = await group([alice]);
      const key = randomUUID();
      const add = () =>
        call("POST", `/api/v1/chats/${chatId}/members`, {
          token: owner.accessToken,
          body: { user_id: carol.userId },
          headers: { "idempotency-key": key },
        });
      const first = await add();
      const second = await add();
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get("x-idempotent-replay")).toBe("true");
      expect(second.body.data).toEqual(first.body.data);
      const added = () =>
        eventsOf(chatId, "MembershipChanged").filter(
          (e) => (e.payload as { user_id: string }).user_id === carol.userId,
        );
      await settled(chatId, bob);
      expect(added()).toHaveLength(1);
      const reused = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: bob.userId },
        headers: { "idempotency-key": key },
      });
      expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
      const badKey = await call("POST", `/api/v1/chats/${chatId}/members`, {
        token: owner.accessToken,
        body: { user_id: bob.userId },
        headers: { "idempotency-key": "x" },
      });
      expect(badKey.status).toBe(400);
    });

    it("a key expires after 24 hours: the same key then makes a new chat", async () => {
      const key = randomUUID();
      const body = { type: "group", name: "Daily", member_ids: [alice.userId] };
      const first = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      fixture.clock.advance(24 * 3_600_000 + 1);
      // Access tokens live an hour: log in again after the day has passed.
      owner = await login(call, owner.phone, owner.deviceId);
      const later = await call("POST", "/api/v1/chats", {
        token: owner.accessToken,
        body,
        headers: { "idempotency-key": key },
      });
      expect(later.status).toBe(201);
      expect(later.body.data.chat_id).not.toBe(first.body.data.chat_id);
      [alice, bob, carol] = await Promise.all([
        login(call, alice.phone, alice.deviceId),
        login(call, bob.phone, bob.deviceId),
        login(call, carol.phone, carol.deviceId),
      ]);
    });
  });

  describe("GET /chats", () => {
    it("pages without duplicates or holes while chats are created concurrently", async () => {
      const user = await login(call);
      const before = [];
      for (let i = 0; i < 7; i++) {
        const response = await call("POST", "/api/v1/chats", {
          token: owner.accessToken,
          body: { type: "group", name: `P${i}`, member_ids: [user.userId] },
        });
        before.push(response.body.data.chat_id as string);
      }
      const seen: string[] = [];
      const creating: Promise<unknown>[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        creating.push(
          call("POST", "/api/v1/chats", {
            token: owner.accessToken,
            body: { type: "group", name: `during ${page}`, member_ids: [user.userId] },
          }),
        );
        const response = await call(
          "GET",
          `/api/v1/chats?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`,
          {
            token: user.accessToken,
          },
        );
        expect(response.status).toBe(200);
        expect(response.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...response.body.data.map((c: { chat_id: string }) => c.chat_id));
        cursor = response.body.pagination.next_cursor;
        expect(response.body.pagination.has_more).toBe(cursor !== null);
        if (cursor === null) break;
      }
      await Promise.all(creating);
      expect(new Set(seen).size).toBe(seen.length);
      for (const chatId of before) expect(seen).toContain(chatId);
      expect(seen).toEqual([...seen].sort());
      const invalid = await call("GET", "/api/v1/chats?cursor=bogus", { token: user.accessToken });
      expect(invalid.status).toBe(400);
      const tooBig = await call("GET", "/api/v1/chats?limit=101", { token: user.accessToken });
      expect(tooBig.status).toBe(400);
    });
  });
});
