import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatServiceClient } from "../proto/generated/messaging/v1/ChatService.js";
import { messagingProto } from "../proto/load.js";
import { fromGrpcError } from "../runtime/grpc/errors.js";
import {
  apiClient,
  type ChatMgmtFixture,
  chatMgmtFixture,
  dynamoEndpoint,
  type LoggedIn,
  login,
} from "../test/support/chatmgmt-fixture.js";

/** The gRPC ChatService (NestJS gRPC transport) over the same buses as REST. */
describe.skipIf(!dynamoEndpoint)("chat management: gRPC ChatService", () => {
  let fixture: ChatMgmtFixture;
  let call: ReturnType<typeof apiClient>;
  let client: ChatServiceClient;
  let owner: LoggedIn;
  let alice: LoggedIn;
  let stranger: LoggedIn;

  beforeAll(async () => {
    fixture = await chatMgmtFixture();
    call = apiClient(fixture.baseUrl);
    const { port } = await fixture.management.startGrpc("127.0.0.1", 0);
    const { ChatService } = messagingProto().messaging.v1;
    client = new ChatService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    [owner, alice, stranger] = await Promise.all([login(call), login(call), login(call)]);
  });
  afterAll(async () => {
    client?.close();
    await fixture?.close();
  });

  const auth = (user: LoggedIn | undefined) => {
    const metadata = new grpc.Metadata();
    if (user !== undefined) metadata.set("authorization", `Bearer ${user.accessToken}`);
    return metadata;
  };
  /** Calls one unary method and settles with its response or the AppError the server meant. */
  function rpc<Res>(method: string, request: object, user: LoggedIn | undefined): Promise<Res> {
    return new Promise((resolve, reject) => {
      type Unary = (
        request: object,
        metadata: grpc.Metadata,
        callback: (error: grpc.ServiceError | null, response: Res) => void,
      ) => void;
      const fn = (client as unknown as Record<string, Unary>)[method]?.bind(client);
      fn?.(request, auth(user), (error: grpc.ServiceError | null, response: Res) =>
        error ? reject(Object.assign(fromGrpcError(error), { grpcCode: error.code })) : resolve(response),
      );
    });
  }

  it("creates, reads, lists and renames a group; REST sees the same chat", async () => {
    const created = await rpc<{
      chat: { chat_id: string; member_count: number; chat_type: string };
      is_existing: boolean;
    }>("CreateChat", { chat_type: "group", name: "Over gRPC", member_ids: [alice.userId] }, owner);
    expect(created.chat).toMatchObject({
      chat_type: "group",
      member_count: 2,
      name: "Over gRPC",
      created_by: owner.userId,
    });
    expect(created.is_existing).toBe(false);
    const chatId = created.chat.chat_id;
    const rest = await call("GET", `/api/v1/chats/${chatId}`, { token: alice.accessToken });
    expect(rest.body.data).toMatchObject({ chat_id: chatId, name: "Over gRPC", member_count: 2 });
    const got = await rpc<{ chat: { last_sequence: number } }>("GetChat", { chat_id: chatId }, alice);
    expect(got.chat).toMatchObject({ chat_id: chatId, last_sequence: 0 });
    const listed = await rpc<{ chats: Array<{ chat_id: string }>; page: { next_page_token: string } }>(
      "ListChats",
      { page: { page_size: 10 } },
      alice,
    );
    expect(listed.chats.map((c) => c.chat_id)).toContain(chatId);
    expect(listed.page.next_page_token).toBe("");
    const renamed = await rpc<{ chat: { name: string } }>(
      "RenameChat",
      { chat_id: chatId, name: "Renamed" },
      owner,
    );
    expect(renamed.chat.name).toBe("Renamed");
  });

  it("members: add, role, list, membership lookup, remove, leave", async () => {
    const { chat } = await rpc<{ chat: { chat_id: string } }>(
      "CreateChat",
      { chat_type: "group", name: "Members", member_ids: [alice.userId] },
      owner,
    );
    const added = await rpc<{ member_count: number }>(
      "AddMember",
      { chat_id: chat.chat_id, user_id: stranger.userId },
      owner,
    );
    expect(added.member_count).toBe(3);
    const role = await rpc<{ role: string }>(
      "SetMemberRole",
      { chat_id: chat.chat_id, user_id: alice.userId, role: "admin" },
      owner,
    );
    expect(role.role).toBe("admin");
    const members = await rpc<{ members: Array<{ user_id: string; role: string }> }>(
      "ListMembers",
      { chat_id: chat.chat_id },
      alice,
    );
    expect(members.members).toHaveLength(3);
    const membership = await rpc<{ is_member: boolean; member: { role: string } }>(
      "GetMembership",
      { chat_id: chat.chat_id, user_id: alice.userId },
      undefined,
    );
    expect(membership).toMatchObject({ is_member: true, member: { role: "admin" } });
    const removed = await rpc<{ member_count: number }>(
      "RemoveMember",
      { chat_id: chat.chat_id, user_id: stranger.userId },
      alice,
    );
    expect(removed.member_count).toBe(2);
    expect(
      (
        await rpc<{ is_member: boolean }>(
          "GetMembership",
          { chat_id: chat.chat_id, user_id: stranger.userId },
          undefined,
        )
      ).is_member,
    ).toBe(false);
    await rpc("LeaveChat", { chat_id: chat.chat_id }, alice);
    const after = await rpc<{ members: unknown[] }>("ListMembers", { chat_id: chat.chat_id }, owner);
    expect(after.members).toHaveLength(1);
  });

  it("a direct chat asked twice is the same chat (is_existing)", async () => {
    const first = await rpc<{ chat: { chat_id: string }; is_existing: boolean }>(
      "CreateChat",
      { chat_type: "direct", member_ids: [stranger.userId] },
      alice,
    );
    const second = await rpc<{ chat: { chat_id: string }; is_existing: boolean }>(
      "CreateChat",
      { chat_type: "direct", member_ids: [alice.userId] },
      stranger,
    );
    expect(second.chat.chat_id).toBe(first.chat.chat_id);
    expect(second.is_existing).toBe(true);
  });

  it("GetMessages of an empty chat is empty; errors carry the app error code", async () => {
    const { chat } = await rpc<{ chat: { chat_id: string } }>(
      "CreateChat",
      { chat_type: "group", name: "Empty", member_ids: [alice.userId] },
      owner,
    );
    const messages = await rpc<{ messages: unknown[]; page: { next_page_token: string } }>(
      "GetMessages",
      { chat_id: chat.chat_id, page: { page_size: 10 } },
      alice,
    );
    expect(messages).toEqual({ messages: [], page: { next_page_token: "" } });

    await expect(rpc("GetChat", { chat_id: chat.chat_id }, undefined)).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      grpcCode: grpc.status.UNAUTHENTICATED,
    });
    await expect(rpc("GetChat", { chat_id: chat.chat_id }, stranger)).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
      grpcCode: grpc.status.PERMISSION_DENIED,
    });
    await expect(rpc("GetChat", { chat_id: "nope" }, owner)).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
      grpcCode: grpc.status.INVALID_ARGUMENT,
    });
    await expect(
      rpc("AddMember", { chat_id: chat.chat_id, user_id: alice.userId }, owner),
    ).rejects.toMatchObject({
      code: "ALREADY_A_MEMBER",
    });
  });
});
