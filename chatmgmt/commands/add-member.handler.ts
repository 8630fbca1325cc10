import { Inject } from "@nestjs/common";
import { CommandHandler, EventBus, type ICommandHandler } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import type { UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { UserStore } from "../../runtime/ports/user-store.js";
import { requireGroup, requireMembership, requireRole } from "../chats/chat-access.js";
import { ChatCreation } from "../chats/chat-creation.js";
import { RequestIdempotency } from "../chats/request-idempotency.js";
import type { AuthLimits } from "../context.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";
import { AUTH_LIMITS, CHAT_STORE, CLOCK, USER_STORE } from "../tokens.js";
import { AddMemberCommand, type AddMemberResult } from "./add-member.command.js";

/**
 * D15 order: reserve a seat (`member_count + 1` only while below the cap), then put the membership only if
 * absent; a failed put gives the seat back. `member_count` is for display and the cap only, never for
 * authorization, so a crash between the two steps can at worst leave the count one too high.
 */
@CommandHandler(AddMemberCommand)
export class AddMemberHandler implements ICommandHandler<AddMemberCommand, AddMemberResult> {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(USER_STORE) private readonly userStore: UserStore,
    @Inject(AUTH_LIMITS) private readonly limits: AuthLimits,
    @Inject(RequestIdempotency) private readonly idempotency: RequestIdempotency,
    @Inject(ChatCreation) private readonly chatCreation: ChatCreation,
    @Inject(EventBus) private readonly events: EventBus,
  ) {}

  async execute(command: AddMemberCommand): Promise<AddMemberResult> {
    const caller = command.caller.userId;
    const { chat, membership } = await requireMembership(this.chatStore, command.chatId, caller);
    requireGroup(chat, "get new members");
    requireRole(membership, command.role === "admin" ? ["owner"] : ["owner", "admin"]);
    if ((await this.userStore.getUser(command.userId)) === undefined) {
      throw new AppError("USER_NOT_FOUND", "user not found", { details: { user_id: command.userId } });
    }
    const claim = await this.idempotency.claim({
      key: command.idempotencyKey,
      userId: caller,
      endpoint: `POST /chats/${command.chatId}/members`,
      body: { user_id: command.userId, role: command.role },
      resourceIds: { user_id: command.userId },
    });
    if (claim.kind === "replay") {
      const replayed = await this.replay(command, caller);
      // A pending record without the membership: the first attempt crashed before adding; finish it.
      if (replayed !== undefined || claim.record.state === "done") {
        if (replayed === undefined) throw alreadyGone(command.userId);
        return replayed;
      }
    }

    const existing = await this.chatStore.getMembership(command.chatId, command.userId);
    if (existing !== undefined) throw alreadyMember(command.userId);
    await this.chatCreation.requireRoomForChats([command.userId]);
    const max = this.limits.maxGroupMembers;
    const count = await this.chatStore.adjustMemberCount(command.chatId, 1, { min: 1, max });
    if (count === undefined) {
      throw new AppError("CHAT_FULL", `a group has at most ${max} members`, {
        details: { max_members: max },
      });
    }
    const now = this.clock.now();
    const added = {
      chatId: command.chatId,
      userId: command.userId,
      role: command.role,
      joinedAt: now,
      updatedAt: now,
    };
    if (!(await this.chatStore.addMembership(added))) {
      await this.chatStore.adjustMemberCount(command.chatId, -1, { min: 1, max });
      throw alreadyMember(command.userId);
    }
    await this.idempotency.complete(claim, 201);
    this.events.publish(
      new MembershipChangedEvent(command.chatId, command.userId, "added", command.role, caller, count, now),
    );
    return { membership: added, addedBy: caller, memberCount: count, replay: false };
  }

  /** The earlier request with this key added the member: answer from current state, change nothing. */
  private async replay(command: AddMemberCommand, caller: UserId): Promise<AddMemberResult | undefined> {
    const [membership, chat] = await Promise.all([
      this.chatStore.getMembership(command.chatId, command.userId),
      this.chatStore.getChat(command.chatId, { consistent: true }),
    ]);
    if (membership === undefined || chat === undefined) return undefined;
    return { membership, addedBy: caller, memberCount: chat.memberCount, replay: true };
  }
}

/** The key's request completed, but the member has since been removed: the replay cannot rebuild it. */
const alreadyGone = (userId: UserId) =>
  new AppError("CONFLICT", "the member added with this Idempotency-Key is no longer in the chat", {
    details: { user_id: userId },
  });

const alreadyMember = (userId: UserId) =>
  new AppError("ALREADY_A_MEMBER", "the user is already a member", { details: { user_id: userId } });
