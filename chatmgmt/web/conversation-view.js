// The conversation pane: its head (title, members), the messages in sequence order with day separators and
// ticks, then this device's outbox (pending or failed, with Retry and Delete), kept pinned to the bottom
// while the reader is there.

import { $, h } from "./dom.js";
import { bubble, dayLabel } from "./views.js";

/** @typedef {import("./messenger.js").Messenger} Messenger */

/**
 * @param {{
 *   chatId: string | null,
 *   messenger: Messenger | null,
 *   chat: any,
 *   detail: any,
 *   me: string | undefined,
 *   titleOf: (chat: any) => string,
 *   nameOf: (userId: string) => string,
 * }} view
 */
export function renderConversation(view) {
  const { chatId, messenger, chat, detail, nameOf } = view;
  const open = chatId !== null && messenger !== null;
  $("no-conversation").hidden = open;
  $("conversation-head").hidden = !open;
  $("messages").hidden = !open;
  $("composer").hidden = !open;
  if (chatId === null || messenger === null) return;
  $("chat-title").textContent = view.titleOf(chat ?? detail);
  const type = chat?.type ?? detail?.type;
  $("chat-subtitle").textContent =
    type === "group"
      ? (detail?.members ?? []).map((/** @type {any} */ m) => nameOf(m.user_id)).join(", ") ||
        `${chat?.member_count ?? ""} members`
      : "Direct chat";
  $("add-member").hidden = type !== "group";

  const box = $("messages");
  const pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const items = [
    ...storedItems(messenger, chatId, { me: view.me, group: type === "group", nameOf }),
    ...outgoingItems(messenger, chatId),
  ];
  $("message-list").replaceChildren(...items);
  $("load-older").hidden = !messenger.hasOlder(chatId);
  if (pinned) box.scrollTop = box.scrollHeight;
}

/**
 * The chat's stored messages: a day label where the day changes, the sender's name above the first of a run
 * in a group, and the tick of this user's own messages.
 * @param {Messenger} messenger @param {string} chatId
 * @param {{ me: string | undefined, group: boolean, nameOf: (userId: string) => string }} options
 */
function storedItems(messenger, chatId, { me, group, nameOf }) {
  /** @type {HTMLElement[]} */
  const items = [];
  let lastDay = "";
  let lastSender = "";
  const dayOf = (/** @type {string} */ iso) => new Date(iso).toDateString();
  for (const message of messenger.messagesOf(chatId)) {
    const day = dayOf(message.created_at);
    if (day !== lastDay) {
      items.push(h("li", { class: "day" }, [dayLabel(message.created_at)]));
      lastDay = day;
      lastSender = "";
    }
    const mine = message.sender_id === me;
    const status = mine
      ? messenger.isDelivered(chatId, message.sequence)
        ? "delivered"
        : "sent"
      : "received";
    items.push(
      bubble({
        mine,
        status,
        sender: group && !mine && lastSender !== message.sender_id ? nameOf(message.sender_id) : "",
        content: message.content,
        time: message.created_at,
        attributes: { "data-sequence": String(message.sequence), "data-message-id": message.message_id },
      }),
    );
    lastSender = message.sender_id;
  }
  return items;
}

/** This device's messages still in the outbox. @param {Messenger} messenger @param {string} chatId */
function outgoingItems(messenger, chatId) {
  /** @type {HTMLElement[]} */
  const items = [];
  for (const item of messenger.outgoingOf(chatId)) {
    const element = bubble({
      mine: true,
      status: item.failed ? "failed" : "pending",
      sender: "",
      content: item.content,
      time: item.created_at,
      attributes: { "data-client-message-id": item.client_message_id },
    });
    if (item.failed) {
      const retry = h("button", { type: "button" }, ["Retry"]);
      retry.addEventListener("click", () => messenger.retry(item.client_message_id));
      const drop = h("button", { type: "button" }, ["Delete"]);
      drop.addEventListener("click", () => messenger.discard(item.client_message_id));
      element.append(h("div", { class: "message-actions", title: item.failed }, [retry, drop]));
    }
    items.push(element);
  }
  return items;
}
