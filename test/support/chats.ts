import type { Clock } from "../../runtime/clock.js";
import type { ChatId, IdFactory, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";

/**
 * An active group chat written straight to a chat store, for tests and benchmarks of the planes that read
 * chats (chat management writes them for real). The first member is the owner, the others plain members.
 */
export async function createActiveChat(
  chatStore: ChatStore,
  context: { readonly ids: IdFactory; readonly clock: Pick<Clock, "now"> },
  members: readonly UserId[],
  name = "test chat",
): Promise<ChatId> {
  const [owner] = members;
  if (owner === undefined) throw new Error("a chat needs members");
  const chatId = context.ids.chat();
  const now = context.clock.now();
  await chatStore.createChat({
    chatId,
    chatType: "group",
    name,
    createdBy: owner,
    status: "active",
    memberCount: members.length,
    createdAt: now,
    updatedAt: now,
  });
  await Promise.all(
    members.map((userId, index) =>
      chatStore.addMembership({
        chatId,
        userId,
        role: index === 0 ? "owner" : "member",
        joinedAt: now,
        updatedAt: now,
      }),
    ),
  );
  return chatId;
}
