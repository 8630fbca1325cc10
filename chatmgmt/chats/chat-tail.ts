import type { ChatId } from "../../runtime/ids.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";

/**
 * The chat's top stored sequence (0 when empty). Stored sequences have no gaps (D3), so the newest stored
 * message is the tail every reader may see.
 */
export async function currentSequence(messageStore: MessageStore, chatId: ChatId): Promise<number> {
  const [last] = await messageStore.readMessages(chatId, { limit: 1, order: "desc" });
  return last?.sequence ?? 0;
}
