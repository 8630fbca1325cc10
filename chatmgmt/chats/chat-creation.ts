import type { EventBus } from "@nestjs/cqrs";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatRecord, ChatType } from "../../runtime/ports/chat-store.js";
import type { ChatMgmtContext } from "../context.js";
import { ChatCreatedEvent } from "../events/chat-created.event.js";
import { MembershipChangedEvent } from "../events/membership-changed.event.js";

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

/**
 * Writes a chat as the D15 sequence of idempotent conditional writes: the chat record as `creating`, every
 * membership, then `creating -> active`. Each step is safe to repeat, so a retry (an idempotency-key replay,
 * or the loser of a direct-chat race) completes a half-written chat instead of making another. Only the
 * caller whose status change succeeded raises the events: they are published once, after every write.
 */
export async function writeChat(ctx: ChatMgmtContext, events: EventBus, plan: ChatPlan): Promise<ChatRecord> {
  const now = ctx.clock.now();
  await ctx.chatStore.createChat({
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
        ctx.chatStore.addMembership({
          chatId: plan.chatId,
          userId,
          role: plan.chatType === "group" && userId === plan.createdBy ? "owner" : "member",
          joinedAt: now,
          updatedAt: now,
        }),
      ),
    );
  }
  const activated = await ctx.chatStore.setChatStatus(plan.chatId, "creating", "active");
  const chat = await ctx.chatStore.getChat(plan.chatId, { consistent: true });
  if (chat === undefined) throw new Error(`chat ${plan.chatId} vanished while being created`);
  if (activated) {
    events.publish(new ChatCreatedEvent(chat, plan.members));
    if (chat.chatType === "group") {
      for (const userId of plan.members) {
        events.publish(
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
