import { Inject, Injectable } from "@nestjs/common";
import { EventBus } from "@nestjs/cqrs";
import type { Clock } from "../../runtime/clock.js";
import type { Config } from "../../runtime/config.js";
import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatRecord, ChatStore, ChatType, UserChatCounts } from "../../runtime/ports/chat-store.js";
import { RateLimiter } from "../auth/rate-limits.js";
import { ChatCreatedEvent } from "../events/chat-created.event.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";
import { CHAT_STORE, CLOCK, CONFIG } from "../tokens.js";
import { MAX_CHATS_PER_USER } from "./chat-limits.js";

/** "Per day" of GROUPS_CREATED_PER_DAY: fixed windows of the injected clock, i.e. UTC days. */
const DAY_MS = 24 * 3_600_000;

function refuseFullUsers(userIds: readonly UserId[], counts: readonly UserChatCounts[]): void {
  const full = userIds.filter((_, index) => (counts[index]?.chats ?? 0) >= MAX_CHATS_PER_USER);
  if (full.length > 0) {
    throw new AppError("INVALID_OPERATION", `a user belongs to at most ${MAX_CHATS_PER_USER} chats`, {
      details: { reason: "max_chats_per_user", max_chats_per_user: MAX_CHATS_PER_USER, user_ids: full },
    });
  }
}

/** Memberships are written this many at a time (DynamoDB's BatchWriteItem size, spec §5 phase 2). */
const MEMBER_WRITE_BATCH = 25;

export interface ChatPlan {
  readonly chatId: ChatId;
  readonly chatType: ChatType;
  readonly name: string | null;
  readonly createdBy: UserId;
  /** Every member; for groups the creator (owner) first. */
  readonly members: readonly UserId[];
}

/** What creating a chat takes besides its command: the per-user caps and the D15 write sequence. */
@Injectable()
export class ChatCreation {
  constructor(
    @Inject(CHAT_STORE) private readonly chatStore: ChatStore,
    @Inject(RateLimiter) private readonly rateLimiter: RateLimiter,
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * The per-user caps on chats (spec §2 capabilities, planes spec "Chatmgmt" limits). Memberships are capped
   * at the announced `max_chats_per_user` for everyone a chat would add — its creator, its initial members, a
   * member added later — so a user cannot be pushed past it by others either. Counts come from the user's
   * chat index (eventually consistent): concurrent additions may overshoot by the few in flight, which is
   * fine for an abuse limit. Refused with 400 INVALID_OPERATION (the add-member error of spec §2 that is not
   * about the chat itself), naming the users at their cap.
   */
  async requireRoomForChats(userIds: readonly UserId[]): Promise<void> {
    refuseFullUsers(userIds, await this.countChats(userIds));
  }

  /**
   * A new group of `creator` with `members`: room for every one of them (requireRoomForChats), the creator
   * below MAX_GROUPS_PER_USER owned groups (400 INVALID_OPERATION; owners never change, so this counts the
   * groups they created), then one of the creator's GROUPS_CREATED_PER_DAY (429 RATE_LIMITED, `details`
   * as every rate limit). The daily budget is spent last, so a request the caps refuse costs none of it.
   */
  async requireRoomForGroup(creator: UserId, members: readonly UserId[]): Promise<void> {
    const { maxGroupsPerUser, groupsCreatedPerDay } = this.config;
    const everyone = [creator, ...members];
    const counts = await this.countChats(everyone);
    refuseFullUsers(everyone, counts);
    if ((counts[0]?.ownedGroups ?? 0) >= maxGroupsPerUser) {
      throw new AppError("INVALID_OPERATION", `a user may own at most ${maxGroupsPerUser} groups`, {
        details: { reason: "max_groups_per_user", max_groups_per_user: maxGroupsPerUser },
      });
    }
    await this.rateLimiter.enforce(`groups_created:user:${creator}`, groupsCreatedPerDay, DAY_MS);
  }

  /**
   * Writes a chat as the D15 sequence of idempotent conditional writes: the chat record as `creating`, every
   * membership, then `creating -> active`. Each step is safe to repeat, so a retry (an idempotency-key replay,
   * or the loser of a direct-chat race) completes a half-written chat instead of making another. Only the
   * caller whose status change succeeded raises the events: they are published once, after every write.
   */
  async writeChat(plan: ChatPlan): Promise<ChatRecord> {
    const now = this.clock.now();
    await this.chatStore.createChat({
      chatId: plan.chatId,
      chatType: plan.chatType,
      name: plan.name,
      createdBy: plan.createdBy,
      status: "creating",
      memberCount: plan.members.length,
      createdAt: now,
      updatedAt: now,
    });
    for (let start = 0; start < plan.members.length; start += MEMBER_WRITE_BATCH) {
      await Promise.all(
        plan.members.slice(start, start + MEMBER_WRITE_BATCH).map((userId) =>
          this.chatStore.addMembership({
            chatId: plan.chatId,
            userId,
            role: plan.chatType === "group" && userId === plan.createdBy ? "owner" : "member",
            joinedAt: now,
            updatedAt: now,
          }),
        ),
      );
    }
    const activated = await this.chatStore.setChatStatus(plan.chatId, "creating", "active");
    const chat = await this.chatStore.getChat(plan.chatId, { consistent: true });
    if (chat === undefined) throw new Error(`chat ${plan.chatId} vanished while being created`);
    if (activated) {
      this.events.publish(new ChatCreatedEvent(chat, plan.members));
      if (chat.chatType === "group") {
        for (const userId of plan.members) {
          this.events.publish(
            new MembershipChangedEvent(
              chat.chatId,
              userId,
              "added",
              userId === plan.createdBy ? "owner" : "member",
              plan.createdBy,
              chat.memberCount,
              now,
            ),
          );
        }
      }
    }
    return chat;
  }

  private countChats(userIds: readonly UserId[]): Promise<UserChatCounts[]> {
    return Promise.all(userIds.map((userId) => this.chatStore.countChatsOfUser(userId)));
  }
}
