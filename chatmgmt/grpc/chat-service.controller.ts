import type { Metadata } from "@grpc/grpc-js";
import { Controller, Inject, UseFilters } from "@nestjs/common";
import { CommandBus, QueryBus } from "@nestjs/cqrs";
import { GrpcMethod } from "@nestjs/microservices";
import { z } from "zod";
import type { AddMemberRequest__Output } from "../../proto/generated/messaging/v1/AddMemberRequest.js";
import type { Chat } from "../../proto/generated/messaging/v1/Chat.js";
import type { ChatMember } from "../../proto/generated/messaging/v1/ChatMember.js";
import type { CreateChatRequest__Output } from "../../proto/generated/messaging/v1/CreateChatRequest.js";
import type { CreateChatResponse } from "../../proto/generated/messaging/v1/CreateChatResponse.js";
import type { GetChatRequest__Output } from "../../proto/generated/messaging/v1/GetChatRequest.js";
import type { GetChatResponse } from "../../proto/generated/messaging/v1/GetChatResponse.js";
import type { GetMembershipRequest__Output } from "../../proto/generated/messaging/v1/GetMembershipRequest.js";
import type { GetMembershipResponse } from "../../proto/generated/messaging/v1/GetMembershipResponse.js";
import type { GetMessagesRequest__Output } from "../../proto/generated/messaging/v1/GetMessagesRequest.js";
import type { GetMessagesResponse } from "../../proto/generated/messaging/v1/GetMessagesResponse.js";
import type { LeaveChatRequest__Output } from "../../proto/generated/messaging/v1/LeaveChatRequest.js";
import type { ListChatsRequest__Output } from "../../proto/generated/messaging/v1/ListChatsRequest.js";
import type { ListChatsResponse } from "../../proto/generated/messaging/v1/ListChatsResponse.js";
import type { ListMembersRequest__Output } from "../../proto/generated/messaging/v1/ListMembersRequest.js";
import type { ListMembersResponse } from "../../proto/generated/messaging/v1/ListMembersResponse.js";
import type { MemberCountResponse } from "../../proto/generated/messaging/v1/MemberCountResponse.js";
import type { RemoveMemberRequest__Output } from "../../proto/generated/messaging/v1/RemoveMemberRequest.js";
import type { RenameChatRequest__Output } from "../../proto/generated/messaging/v1/RenameChatRequest.js";
import type { SetMemberRoleRequest__Output } from "../../proto/generated/messaging/v1/SetMemberRoleRequest.js";
import { AppError } from "../../runtime/errors.js";
import { toProtoMessage } from "../../runtime/grpc/message-codec.js";
import type { ChatRecord, MembershipRecord } from "../../runtime/ports/chat-store.js";
import { type Caller, Sessions } from "../auth/sessions.js";
import { AddMemberCommand, type AddMemberResult } from "../commands/add-member.command.js";
import { CreateChatCommand, type CreateChatResult } from "../commands/create-chat.command.js";
import { LeaveChatCommand } from "../commands/leave-chat.command.js";
import { RemoveMemberCommand } from "../commands/remove-member.command.js";
import { RenameChatCommand } from "../commands/rename-chat.command.js";
import { SetMemberRoleCommand } from "../commands/set-member-role.command.js";
import { type ChatDetail, GetChatQuery, type NamedMember } from "../queries/get-chat.query.js";
import { GetCurrentSequenceQuery } from "../queries/get-current-sequence.query.js";
import { GetMembershipQuery } from "../queries/get-membership.query.js";
import { GetMessagesQuery, type MessagePage } from "../queries/get-messages.query.js";
import { type ChatListPage, ListChatsQuery } from "../queries/list-chats.query.js";
import { ListMembersQuery } from "../queries/list-members.query.js";
import { assignableRole, chatId, chatName, userId, uuidLike } from "../schemas.js";
import { parseInput } from "../validation.js";
import { GrpcErrorFilter } from "./grpc-error.filter.js";

const pageSize = (size: number, fallback: number) =>
  parseInput(z.number().int().min(0).max(100), size) || fallback;

/**
 * `messaging.v1.ChatService`: the same commands and queries as REST, over gRPC. The caller is the user of
 * the metadata's `authorization: Bearer <jwt>`; GetMembership is internal (ingest/fanout) and needs none.
 */
@Controller()
@UseFilters(GrpcErrorFilter)
export class ChatServiceController {
  constructor(
    @Inject(Sessions) private readonly sessions: Sessions,
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @GrpcMethod("ChatService", "CreateChat")
  async createChat(request: CreateChatRequest__Output, metadata: Metadata): Promise<CreateChatResponse> {
    const caller = await this.caller(metadata);
    const input = parseInput(
      z.object({
        chat_type: z.enum(["direct", "group"], { error: "must be direct or group" }),
        name: z.string(),
        member_ids: z.array(userId).min(1).max(99),
        idempotency_key: z.union([z.literal(""), uuidLike]),
      }),
      request,
    );
    const name = input.chat_type === "group" && input.name !== "" ? parseInput(chatName, input.name) : null;
    const result = await this.commands.execute<CreateChatCommand, CreateChatResult>(
      new CreateChatCommand(
        caller,
        input.chat_type,
        name,
        input.member_ids,
        input.idempotency_key || undefined,
      ),
    );
    return { chat: await this.chat(result.chat), is_existing: result.replay };
  }

  @GrpcMethod("ChatService", "GetChat")
  async getChat(request: GetChatRequest__Output, metadata: Metadata): Promise<GetChatResponse> {
    const caller = await this.caller(metadata);
    const detail = await this.queries.execute<GetChatQuery, ChatDetail>(
      new GetChatQuery(caller, parseInput(chatId, request.chat_id)),
    );
    return { chat: chatMessage(detail.chat, detail.currentSequence) };
  }

  @GrpcMethod("ChatService", "ListChats")
  async listChats(request: ListChatsRequest__Output, metadata: Metadata): Promise<ListChatsResponse> {
    const caller = await this.caller(metadata);
    const token = request.page?.page_token ?? "";
    const page = await this.queries.execute<ListChatsQuery, ChatListPage>(
      new ListChatsQuery(
        caller,
        pageSize(request.page?.page_size ?? 0, 50),
        token === "" ? undefined : token,
      ),
    );
    return {
      chats: page.items.map((item) => chatMessage(item.chat, item.currentSequence)),
      page: { next_page_token: page.nextCursor ?? "" },
    };
  }

  @GrpcMethod("ChatService", "RenameChat")
  async renameChat(request: RenameChatRequest__Output, metadata: Metadata): Promise<GetChatResponse> {
    const caller = await this.caller(metadata);
    const chat = await this.commands.execute<RenameChatCommand, ChatRecord>(
      new RenameChatCommand(caller, parseInput(chatId, request.chat_id), parseInput(chatName, request.name)),
    );
    return { chat: await this.chat(chat) };
  }

  @GrpcMethod("ChatService", "AddMember")
  async addMember(request: AddMemberRequest__Output, metadata: Metadata): Promise<MemberCountResponse> {
    const caller = await this.caller(metadata);
    const role = request.role === "" ? "member" : parseInput(assignableRole, request.role);
    const result = await this.commands.execute<AddMemberCommand, AddMemberResult>(
      new AddMemberCommand(
        caller,
        parseInput(chatId, request.chat_id),
        parseInput(userId, request.user_id),
        role,
      ),
    );
    return { member_count: result.memberCount };
  }

  @GrpcMethod("ChatService", "RemoveMember")
  async removeMember(request: RemoveMemberRequest__Output, metadata: Metadata): Promise<MemberCountResponse> {
    const caller = await this.caller(metadata);
    const count = await this.commands.execute<RemoveMemberCommand, number>(
      new RemoveMemberCommand(
        caller,
        parseInput(chatId, request.chat_id),
        parseInput(userId, request.user_id),
      ),
    );
    return { member_count: count };
  }

  @GrpcMethod("ChatService", "SetMemberRole")
  async setMemberRole(request: SetMemberRoleRequest__Output, metadata: Metadata): Promise<ChatMember> {
    const caller = await this.caller(metadata);
    const membership = await this.commands.execute<SetMemberRoleCommand, MembershipRecord>(
      new SetMemberRoleCommand(
        caller,
        parseInput(chatId, request.chat_id),
        parseInput(userId, request.user_id),
        parseInput(assignableRole, request.role),
      ),
    );
    return memberMessage(membership);
  }

  @GrpcMethod("ChatService", "LeaveChat")
  async leaveChat(request: LeaveChatRequest__Output, metadata: Metadata): Promise<Record<string, never>> {
    const caller = await this.caller(metadata);
    await this.commands.execute(new LeaveChatCommand(caller, parseInput(chatId, request.chat_id)));
    return {};
  }

  @GrpcMethod("ChatService", "ListMembers")
  async listMembers(request: ListMembersRequest__Output, metadata: Metadata): Promise<ListMembersResponse> {
    const caller = await this.caller(metadata);
    const members = await this.queries.execute<ListMembersQuery, NamedMember[]>(
      new ListMembersQuery(caller, parseInput(chatId, request.chat_id)),
    );
    return { members: members.map((m) => memberMessage(m.membership)) };
  }

  /** Ascending by sequence (proto); neither bound = the newest page. */
  @GrpcMethod("ChatService", "GetMessages")
  async getMessages(request: GetMessagesRequest__Output, metadata: Metadata): Promise<GetMessagesResponse> {
    const caller = await this.caller(metadata);
    if (request.after_sequence > 0 && request.before_sequence > 0) {
      throw new AppError("VALIDATION_ERROR", "at most one of after_sequence and before_sequence");
    }
    const token = request.page?.page_token ?? "";
    const forward = request.after_sequence > 0;
    const page = await this.queries.execute<GetMessagesQuery, MessagePage>(
      new GetMessagesQuery(caller, parseInput(chatId, request.chat_id), {
        limit: pageSize(request.page?.page_size ?? 0, 50),
        direction: forward ? "forward" : "backward",
        ...(token !== ""
          ? { cursor: token }
          : forward
            ? { afterSequence: request.after_sequence }
            : request.before_sequence > 0
              ? { beforeSequence: request.before_sequence }
              : {}),
      }),
    );
    const ascending = [...page.messages].sort((a, b) => a.sequence - b.sequence);
    return { messages: ascending.map(toProtoMessage), page: { next_page_token: page.nextCursor ?? "" } };
  }

  @GrpcMethod("ChatService", "GetMembership")
  async getMembership(request: GetMembershipRequest__Output): Promise<GetMembershipResponse> {
    const membership = await this.queries.execute<GetMembershipQuery, MembershipRecord | undefined>(
      new GetMembershipQuery(parseInput(chatId, request.chat_id), parseInput(userId, request.user_id)),
    );
    return membership === undefined
      ? { is_member: false }
      : { is_member: true, member: memberMessage(membership) };
  }

  private caller(metadata: Metadata): Promise<Caller> {
    const value = metadata.get("authorization")[0];
    return this.sessions.authenticate(typeof value === "string" ? value : undefined);
  }

  private async chat(chat: ChatRecord): Promise<Chat> {
    const tail = await this.queries.execute<GetCurrentSequenceQuery, number>(
      new GetCurrentSequenceQuery(chat.chatId),
    );
    return chatMessage(chat, tail);
  }
}

const chatMessage = (chat: ChatRecord, lastSequence: number): Chat => ({
  chat_id: chat.chatId,
  chat_type: chat.chatType,
  name: chat.name ?? "",
  member_count: chat.memberCount,
  created_at: chat.createdAt,
  last_sequence: lastSequence,
  created_by: chat.createdBy,
});

const memberMessage = (membership: MembershipRecord): ChatMember => ({
  user_id: membership.userId,
  chat_id: membership.chatId,
  role: membership.role,
  joined_at: membership.joinedAt,
});
