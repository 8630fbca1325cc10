import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from "@nestjs/common";
import { CommandBus, QueryBus } from "@nestjs/cqrs";
import { z } from "zod";
import { isoTime } from "../../runtime/clock.js";
import type { ChatRecord, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { Caller } from "../auth/sessions.js";
import { AddMemberCommand, type AddMemberResult } from "../commands/add-member.command.js";
import { CreateChatCommand, type CreateChatResult } from "../commands/create-chat.command.js";
import { LeaveChatCommand } from "../commands/leave-chat.command.js";
import { MuteChatCommand } from "../commands/mute-chat.command.js";
import { RemoveMemberCommand } from "../commands/remove-member.command.js";
import { RenameChatCommand } from "../commands/rename-chat.command.js";
import { SetMemberRoleCommand } from "../commands/set-member-role.command.js";
import { type ChatDetail, GetChatQuery, type NamedMember } from "../queries/get-chat.query.js";
import { type ChatListPage, ListChatsQuery } from "../queries/list-chats.query.js";
import { ListMembersQuery } from "../queries/list-members.query.js";
import { assignableRole, chatId, chatName, userId, uuidLike } from "../schemas.js";
import { parseInput } from "../validation.js";
import { AuthGuard } from "./auth.guard.js";
import { CurrentCaller, header, type RestRequest } from "./request.js";
import {
  chatDetailView,
  chatListItemView,
  chatView,
  chatWithStateView,
  membershipView,
  memberView,
  pagination,
} from "./views.js";

export const createChatBody = z.strictObject({
  type: z.enum(["direct", "group"], { error: "must be direct or group" }),
  name: chatName.optional(),
  member_ids: z.array(userId).min(1, "at least one member").max(99, "at most 99 other members"),
});
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});
export const renameBody = z.strictObject({ name: chatName });
export const addMemberBody = z.strictObject({ user_id: userId, role: assignableRole.default("member") });
export const roleBody = z.strictObject({ role: assignableRole });
export const muteBody = z
  .strictObject({
    duration_hours: z.number().int().min(1).max(8760, "at most 8760 hours (a year)").nullable().optional(),
  })
  .optional();

interface StatusResponse {
  status(code: number): void;
  setHeader(name: string, value: string): void;
}

/** `Idempotency-Key` of the two idempotent writes (spec §1), as the headers it is read from. */
export const idempotencyKeyHeaders = z.object({ "idempotency-key": uuidLike.optional() });

function idempotencyKey(request: RestRequest): string | undefined {
  const key = header(request, "idempotency-key");
  return key === undefined
    ? undefined
    : parseInput(idempotencyKeyHeaders, { "idempotency-key": key })["idempotency-key"];
}

/** Chats and membership (spec §2, §2.1, §5). */
@Controller("api/v1/chats")
@UseGuards(AuthGuard)
export class ChatsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  async create(
    @CurrentCaller() caller: Caller,
    @Body() body: unknown,
    @Req() request: RestRequest,
    @Res({ passthrough: true }) response: StatusResponse,
  ) {
    const input = parseInput(createChatBody, body);
    const key = idempotencyKey(request);
    const result = await this.commands.execute<CreateChatCommand, CreateChatResult>(
      new CreateChatCommand(
        caller,
        input.type,
        input.type === "group" ? (input.name ?? null) : null,
        input.member_ids,
        key,
      ),
    );
    const members = await this.queries.execute<ListMembersQuery, NamedMember[]>(
      new ListMembersQuery(caller, result.chat.chatId),
    );
    response.status(result.status);
    if (result.replay) response.setHeader("x-idempotent-replay", "true");
    return { data: chatDetailView(result.chat, members) };
  }

  @Get()
  async list(@CurrentCaller() caller: Caller, @Query() query: unknown) {
    const input = parseInput(listQuery, query);
    const page = await this.queries.execute<ListChatsQuery, ChatListPage>(
      new ListChatsQuery(caller, input.limit, input.cursor),
    );
    return {
      data: page.items.map(chatListItemView),
      pagination: pagination(page.nextCursor !== null, page.nextCursor),
    };
  }

  @Get(":chatId")
  async get(@CurrentCaller() caller: Caller, @Param("chatId") id: string) {
    const detail = await this.queries.execute<GetChatQuery, ChatDetail>(
      new GetChatQuery(caller, parseInput(chatId, id)),
    );
    return { data: chatWithStateView(detail) };
  }

  @Patch(":chatId")
  async rename(@CurrentCaller() caller: Caller, @Param("chatId") id: string, @Body() body: unknown) {
    const input = parseInput(renameBody, body);
    const chat = await this.commands.execute<RenameChatCommand, ChatRecord>(
      new RenameChatCommand(caller, parseInput(chatId, id), input.name),
    );
    return { data: chatView(chat) };
  }

  @Get(":chatId/members")
  async members(@CurrentCaller() caller: Caller, @Param("chatId") id: string) {
    const members = await this.queries.execute<ListMembersQuery, NamedMember[]>(
      new ListMembersQuery(caller, parseInput(chatId, id)),
    );
    return { data: members.map(memberView) };
  }

  @Post(":chatId/members")
  async addMember(
    @CurrentCaller() caller: Caller,
    @Param("chatId") id: string,
    @Body() body: unknown,
    @Req() request: RestRequest,
    @Res({ passthrough: true }) response: StatusResponse,
  ) {
    const input = parseInput(addMemberBody, body);
    const result = await this.commands.execute<AddMemberCommand, AddMemberResult>(
      new AddMemberCommand(
        caller,
        parseInput(chatId, id),
        input.user_id,
        input.role,
        idempotencyKey(request),
      ),
    );
    response.status(201);
    if (result.replay) response.setHeader("x-idempotent-replay", "true");
    const names = await this.queries.execute<ListMembersQuery, NamedMember[]>(
      new ListMembersQuery(caller, result.membership.chatId),
    );
    const name = names.find((m) => m.membership.userId === result.membership.userId)?.displayName ?? null;
    return { data: { ...membershipView(result.membership, name), added_by: result.addedBy } };
  }

  @Delete(":chatId/members/:userId")
  @HttpCode(204)
  async removeMember(
    @CurrentCaller() caller: Caller,
    @Param("chatId") id: string,
    @Param("userId") member: string,
  ) {
    await this.commands.execute(
      new RemoveMemberCommand(caller, parseInput(chatId, id), parseInput(userId, member)),
    );
  }

  @Patch(":chatId/members/:userId")
  async setRole(
    @CurrentCaller() caller: Caller,
    @Param("chatId") id: string,
    @Param("userId") member: string,
    @Body() body: unknown,
  ) {
    const input = parseInput(roleBody, body);
    const membership = await this.commands.execute<SetMemberRoleCommand, MembershipRecord>(
      new SetMemberRoleCommand(caller, parseInput(chatId, id), parseInput(userId, member), input.role),
    );
    const names = await this.queries.execute<ListMembersQuery, NamedMember[]>(
      new ListMembersQuery(caller, membership.chatId),
    );
    const name = names.find((m) => m.membership.userId === membership.userId)?.displayName ?? null;
    return { data: { ...membershipView(membership, name), updated_by: caller.userId } };
  }

  @Post(":chatId/leave")
  @HttpCode(204)
  async leave(@CurrentCaller() caller: Caller, @Param("chatId") id: string) {
    await this.commands.execute(new LeaveChatCommand(caller, parseInput(chatId, id)));
  }

  /** `duration_hours` absent or null = indefinitely. */
  @Post(":chatId/mute")
  @HttpCode(200)
  async mute(@CurrentCaller() caller: Caller, @Param("chatId") id: string, @Body() body: unknown) {
    const input = parseInput(muteBody, body);
    const membership = await this.commands.execute<MuteChatCommand, MembershipRecord>(
      new MuteChatCommand(caller, parseInput(chatId, id), input?.duration_hours ?? null),
    );
    return {
      data: {
        chat_id: membership.chatId,
        muted_until: membership.mutedUntil === undefined ? null : isoTime(membership.mutedUntil),
      },
    };
  }

  @Post(":chatId/unmute")
  @HttpCode(200)
  async unmute(@CurrentCaller() caller: Caller, @Param("chatId") id: string) {
    const membership = await this.commands.execute<MuteChatCommand, MembershipRecord>(
      new MuteChatCommand(caller, parseInput(chatId, id), null, true),
    );
    return { data: { chat_id: membership.chatId, muted_until: null } };
  }
}
