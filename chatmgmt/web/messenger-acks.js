// Acknowledgements of this device (AK-01..06) and the ticks they feed: one cumulative ack per chat whose cursor
// moved, batched; what the server recorded for this account (delivery-state); and how far the other members'
// devices acknowledged (the ✓✓ tick). State lives on the Messenger; these are its steps.

/** @typedef {import("./messenger.js").Messenger} Messenger */

/** Acks pending across chats that are sent at once rather than at the next ACK_EVERY_MS tick. */
const ACK_AT_PENDING = 10;

/** Flushes once this many acks are pending across chats. @param {Messenger} m */
export function maybeFlushAcks(m) {
  let pending = 0;
  for (const chat of m.chats.values()) pending += Math.max(0, chat.cursor - chat.ackSent);
  if (pending >= ACK_AT_PENDING) flushAcks(m);
}

/**
 * AK-01..06: one cumulative ack per chat whose cursor moved, after the messages are in localStorage (AK-03).
 * The cursor only passes contiguous or synced sequences, so an ack never skips an unseen message.
 * @param {Messenger} m
 */
export function flushAcks(m) {
  m.persistDirty();
  if (!m.connection.ready) return;
  /** @type {string[]} */
  const acked = [];
  for (const [chatId, chat] of m.chats) {
    if (chat.cursor <= chat.ackSent) continue;
    if (!m.connection.send({ type: "ack", payload: { chat_id: chatId, last_acked_sequence: chat.cursor } }))
      break;
    chat.ackSent = chat.cursor;
    m.dirty.add(chatId);
    acked.push(chatId);
  }
  m.persistDirty();
  // Acks are never answered; the recorded delivery state is read back shortly after.
  if (acked.length > 0) setTimeout(() => void refreshDeliveryState(m, acked), 700);
}

/**
 * GET /delivery-state: what the server recorded as delivered to this account.
 * @param {Messenger} m @param {string[]} chatIds
 */
export async function refreshDeliveryState(m, chatIds) {
  if (navigator.onLine === false) return;
  try {
    for (let i = 0; i < chatIds.length; i += 50) {
      const states = await m.deps.api.deliveryStates(chatIds.slice(i, i + 50));
      for (const state of states) {
        const chat = m.chats.get(state.chat_id);
        if (chat !== undefined && state.last_acked_sequence > chat.serverAcked) {
          chat.serverAcked = state.last_acked_sequence;
          m.touch(state.chat_id);
        }
      }
    }
    m.emit();
  } catch (error) {
    console.warn("delivery state unavailable", error);
  }
}

/**
 * The ✓✓ tick: the lowest sequence every other member's devices acknowledged (GET /chats/{id} lists each
 * member's last_acked_sequence). Polled for chats that have a sent message not yet delivered.
 * @param {Messenger} m
 */
export async function pollDelivered(m) {
  if (navigator.onLine === false) return;
  const me = m.deps.api.me?.user_id;
  const waiting = [...m.chats.entries()]
    .filter(([, chat]) =>
      [...chat.messages.values()].some(
        (message) => message.sender_id === me && message.sequence > (chat.deliveredTo ?? 0),
      ),
    )
    .slice(0, 5);
  for (const [chatId] of waiting) await refreshDelivered(m, chatId);
}

/** @param {Messenger} m @param {string} chatId */
async function refreshDelivered(m, chatId) {
  try {
    const detail = await m.deps.api.getChat(chatId);
    const me = m.deps.api.me?.user_id;
    /** @type {Array<{ user_id: string, last_acked_sequence?: number }>} */
    const members = detail.members ?? [];
    const others = members.filter((member) => member.user_id !== me);
    if (others.length === 0) return;
    const deliveredTo = Math.min(...others.map((member) => member.last_acked_sequence ?? 0));
    const chat = m.chats.get(chatId);
    if (chat !== undefined && deliveredTo > (chat.deliveredTo ?? 0)) {
      chat.deliveredTo = deliveredTo;
      m.touch(chatId);
      m.emit();
    }
  } catch (error) {
    console.warn("delivery of chat unavailable", error);
  }
}
