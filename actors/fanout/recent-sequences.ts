import type { ChatId } from "../../runtime/ids.js";

/**
 * The sequences this worker recently pushed, per chat (a small window, most recent chats kept): a replayed
 * record (an outbox republish after an ingest crash, D4) is not pushed twice. Only exact repeats are skipped,
 * so a record that arrives out of order (two owners during a handoff, spec §5 #11) is still pushed. Gateways
 * and clients dedupe by (chat_id, sequence) anyway; this only saves the work.
 */
export class RecentSequences {
  private readonly chats = new Map<ChatId, number[]>();

  constructor(
    private readonly maxChats: number,
    private readonly windowPerChat = 64,
  ) {}

  has(chatId: ChatId, sequence: number): boolean {
    return this.chats.get(chatId)?.includes(sequence) ?? false;
  }

  add(chatId: ChatId, sequence: number): void {
    const window = this.chats.get(chatId) ?? [];
    this.chats.delete(chatId);
    if (!window.includes(sequence)) {
      window.push(sequence);
      if (window.length > this.windowPerChat) {
        window.sort((a, b) => a - b);
        window.shift();
      }
    }
    this.chats.set(chatId, window);
    if (this.chats.size > this.maxChats) {
      const oldest = this.chats.keys().next();
      if (oldest.done !== true) this.chats.delete(oldest.value);
    }
  }
}
