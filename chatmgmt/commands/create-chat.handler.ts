import { Inject } from "@nestjs/common";
import { CommandHandler, type ICommandHandler } from "@nestjs/cqrs";
import { AppError } from "../../runtime/errors.js";
import type { ChatId, IdFactory, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireChat } from "../chats/chat-access.js";
import { ChatCreation } from "../chats/chat-creation.js";
import { type Claim, RequestIdempotency } from "../chats/request-idempotency.js";
import type { AuthLimits } from "../context.js";
import { AUTH_LIMITS, CHAT_STORE, IDS, USER_STORE } from "../tokens.js";
import { CreateChatCommand, type CreateChatResult } from "./create-chat.command.js";

@CommandHandler(CreateChatCommand)
export class CreateChatHandler implements ICommandHandler<CreateChatCommand, CreateChatResult> {
  constructor(
    @Inject(IDS) private readonly ids: IdFactory,
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(RequestIdempotency) private readonly idempotency: RequestIdempotency,
    @Inject(ChatCreation) private readonly chatCreation: ChatCreation,
  ) {}

  async execute(command: CreateChatCommand): Promise<CreateChatResult> {
    const caller = command.caller.userId;
    const members = [...new Set(command.memberIds)];
    if (members.includes(caller)) {
      throw new AppError("VALIDATION_ERROR", "member_ids must not include yourself", {
        details: {
          field_errors: [
            { field: "member_ids", code: "INVALID_VALUE", message: "must not include yourself" },
          ],
        },
      });
    }
    if (command.chatType === "direct" && members.length !== 1) {
      throw new AppError("VALIDATION_ERROR", "a direct chat has exactly one other member", {
        details: {
          field_errors: [{ field: "member_ids", code: "INVALID_VALUE", message: "exactly one id" }],
        },
      });
    }
    if (command.chatType === "group") {
      if (command.name === null) {
        throw new AppError("VALIDATION_ERROR", "a group needs a name", {
          details: { field_errors: [{ field: "name", code: "REQUIRED", message: "required for groups" }] },
        });
      }
      if (members.length + 1 > this.limits.maxGroupMembers) {
        throw new AppError("CHAT_FULL", `a group has at most ${this.limits.maxGroupMembers} members`, {
          details: { max_members: this.limits.maxGroupMembers },
        });
      }
    }
    await this.requireUsers(members);

    const claim = await this.idempotency.claim({
      key: command.idempotencyKey,
      userId: caller,
      endpoint: "POST /chats",
      body: {
        type: command.chatType,
        name: command.chatType === "group" ? command.name : null,
        member_ids: [...members].sort(),
      },
      resourceIds: { chat_id: this.ids.chat() },
    });
    const chatId = claim.resourceIds.chat_id as ChatId;
    if (claim.kind === "replay" && claim.record.state === "done") {
      // A direct request may have answered with the pair's existing chat rather than its candidate id.
      const pairChat =
        command.chatType === "direct"
          ? await this.chatStore.getDirectChat(caller, members[0] as UserId)
          : undefined;
      const chat = await requireChat(this.chatStore, pairChat ?? chatId);
      return { chat, status: claim.record.responseStatus === 201 ? 201 : 200, replay: true };
    }
    const result =
      command.chatType === "direct"
        ? await this.createDirect(caller, members[0] as UserId, chatId)
        : await this.createGroup(caller, command.name ?? "", members, chatId, claim);
    await this.idempotency.complete(claim, result.status);
    return claim.kind === "replay" ? { ...result, replay: true } : result;
  }

  /**
   * D15 with the pair sentinel: claim the pair first, then write the chat the sentinel names. The loser of a
   * race (or a retry after a crash) completes the winner's chat with the same idempotent steps, so racing
   * creators all answer with the one chat.
   */
  private async createDirect(caller: UserId, other: UserId, candidate: ChatId): Promise<CreateChatResult> {
    const existing = await this.chatStore.getDirectChat(caller, other);
    // Only a new pair takes a place among either user's chats; answering with the pair's chat takes none.
    if (existing === undefined) await this.chatCreation.requireRoomForChats([caller, other]);
    const holder =
      existing === undefined ? await this.chatStore.claimDirectChat(caller, other, candidate) : undefined;
    const chatId = existing ?? holder?.chatId ?? candidate;
    let chat = await this.chatStore.getChat(chatId, { consistent: true });
    if (chat?.status !== "active") {
      chat = await this.chatCreation.writeChat({
        chatId,
        chatType: "direct",
        name: null,
        createdBy: caller,
        members: [caller, other],
      });
    }
    const created = holder?.claimed === true;
    return { chat, status: created ? 201 : 200, replay: !created };
  }

  private async createGroup(
    caller: UserId,
    name: string,
    members: readonly UserId[],
    chatId: ChatId,
    claim: Claim,
  ): Promise<CreateChatResult> {
    // A replay that completes a crashed first attempt whose chat record exists was already admitted.
    const started =
      claim.kind === "replay" && (await this.chatStore.getChat(chatId, { consistent: true })) !== undefined;
    if (!started) await this.chatCreation.requireRoomForGroup(caller, members);
    const chat = await this.chatCreation.writeChat({
      chatId,
      chatType: "group",
      name,
      createdBy: caller,
      members: [caller, ...members],
    });
    return { chat, status: 201, replay: claim.kind === "replay" };
  }

  private async requireUsers(userIds: readonly UserId[]): Promise<void> {
    const found = new Set((await this.userStore.getUsers(userIds)).map((user) => user.userId));
    const missing = userIds.filter((userId) => !found.has(userId));
    if (missing.length > 0) {
      throw new AppError("USER_NOT_FOUND", "some members do not exist", { details: { user_ids: missing } });
    }
  }
}
