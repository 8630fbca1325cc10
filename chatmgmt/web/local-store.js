// What this device keeps in localStorage, per signed-in user: each chat's messages and cursors, and the
// outbox of messages not yet acknowledged (MS-04).

/** @typedef {{ message_id: string, chat_id: string, sequence: number, sender_id: string, content: string, created_at: string }} Message */
/** @typedef {{ client_message_id: string, chat_id: string, content: string, created_at: string, failed?: string }} Outgoing */
/**
 * A chat on this device. `cursor`: every sequence up to it is known here (the sync cursor and the value
 * acked). `floor`: sequences up to it may exist on the server but not here (REST history reads them).
 * @typedef {{
 *   messages: Map<number, Message>,
 *   cursor: number,
 *   floor: number,
 *   ackSent: number,
 *   serverAcked: number,
 *   deliveredTo: number,
 *   syncing: boolean,
 *   syncAgain: boolean,
 * }} ChatState
 */
/** @typedef {{ cursor: number, floor: number, ackSent: number, messages: Message[] }} SavedChat */

/** Messages kept per chat in localStorage; older ones are read back through REST history. */
const KEEP_PER_CHAT = 300;

export class LocalStore {
  /** @param {string} userId */
  constructor(userId) {
    this.prefix = `mp.${userId}.`;
  }

  /** @param {string} chatId @returns {SavedChat | null} */
  loadChat(chatId) {
    return this.read(`chat.${chatId}`, null);
  }

  /** The newest KEEP_PER_CHAT messages; when older ones are dropped the floor rises above them. @param {string} chatId @param {ChatState} chat */
  saveChat(chatId, chat) {
    const all = [...chat.messages.values()].sort((a, b) => a.sequence - b.sequence);
    const messages = all.slice(-KEEP_PER_CHAT);
    const floor =
      all.length > messages.length ? Math.max(chat.floor, (messages[0]?.sequence ?? 1) - 1) : chat.floor;
    this.write(`chat.${chatId}`, { cursor: chat.cursor, floor, ackSent: chat.ackSent, messages });
  }

  /** @param {string} chatId */
  removeChat(chatId) {
    localStorage.removeItem(`${this.prefix}chat.${chatId}`);
  }

  /** @returns {Outgoing[]} */
  loadOutbox() {
    return this.read("outbox", []);
  }

  /** @param {Outgoing[]} outbox */
  saveOutbox(outbox) {
    this.write("outbox", outbox);
  }

  /** @param {string} key @param {any} fallback */
  read(key, fallback) {
    try {
      const raw = localStorage.getItem(this.prefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  }

  /** @param {string} key @param {unknown} value */
  write(key, value) {
    try {
      localStorage.setItem(this.prefix + key, JSON.stringify(value));
    } catch (error) {
      console.warn("local storage is full", error);
    }
  }
}
