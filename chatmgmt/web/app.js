// The browser client: sign-in, chat list, conversation, composer. Transport and storage live in
// connection.js / messenger.js; REST in api.js. Plain DOM, no framework, no build step.

import { Api, ApiError, deviceId } from "./api.js";
import { setUpDialogs } from "./dialogs.js";
import { $, busy, h } from "./dom.js";
import { showConnectionState } from "./indicator.js";
import { MAX_CONTENT_BYTES, Messenger, utf8Bytes } from "./messenger.js";
import { setUpSignIn, showSignIn } from "./sign-in.js";
import { bubble, dayLabel, paintAvatar, shortTime } from "./views.js";

/** @typedef {import("./messenger.js").Message} Message */

const CHAT_LIST_REFRESH_MS = 30_000;

const api = new Api({ onSignedOut: () => showLogin() });

/** UI state. */
const ui = {
  /** @type {Messenger | null} */
  messenger: null,
  /** @type {Map<string, any>} chat list items (GET /chats) by chat id */
  chats: new Map(),
  /** @type {Map<string, any>} chat details with members (GET /chats/{id}) */
  details: new Map(),
  /** @type {Map<string, string>} user id -> the name to show */
  names: new Map(),
  /** @type {string | null} */
  active: null,
  /** @type {Record<string, number>} last sequence seen per chat (unread counts) */
  lastRead: {},
  renderQueued: false,
  listDirty: true,
  conversationDirty: true,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  listTimer: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  reloadTimer: undefined,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  tokenTimer: undefined,
};

/** CL-07: refresh the access token about five minutes before it expires (checked every minute). */
const REFRESH_BEFORE_EXPIRY_S = 300;

// ---------------------------------------------------------------- sign in

function showLogin() {
  stopApp();
  showSignIn();
}

setUpSignIn(api, () => showApp());

// ---------------------------------------------------------------- app

function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  ui.lastRead = readLastRead();
  ui.messenger = new Messenger({
    api,
    deviceId: deviceId(),
    onChange: (chatIds) => {
      ui.listDirty = true;
      if (ui.active !== null && chatIds.has(ui.active)) ui.conversationDirty = true;
      scheduleRender();
    },
    onState: showConnectionState,
    onUnknownChat: () => scheduleChatReload(),
  });
  renderMe();
  void api.loadMe().then(renderMe, () => {});
  void loadChats().then(() => ui.messenger?.start());
  ui.listTimer = setInterval(() => {
    if (document.visibilityState === "visible") void loadChats();
  }, CHAT_LIST_REFRESH_MS);
  ui.tokenTimer = setInterval(() => {
    if (api.signedIn && api.secondsLeft() < REFRESH_BEFORE_EXPIRY_S) void api.refresh();
  }, 60_000);
  const wanted = location.hash.slice(1);
  if (wanted.startsWith("chat_")) void openChat(wanted);
}

function stopApp() {
  ui.messenger?.stop();
  ui.messenger = null;
  clearInterval(ui.listTimer);
  clearInterval(ui.tokenTimer);
  ui.chats.clear();
  ui.details.clear();
  ui.active = null;
}

function renderMe() {
  const me = api.me;
  if (me === null) return;
  const name = me.display_name ?? me.phone_number;
  $("me-name").textContent = name;
  paintAvatar($("me-avatar"), me.user_id, name);
}

$("logout").addEventListener("click", async () => {
  const userId = api.me?.user_id;
  ui.messenger?.stop();
  await api.logout().catch(() => {});
  // A signed-out browser keeps no one's messages.
  for (const key of Object.keys(localStorage)) {
    if (userId !== undefined && key.startsWith(`mp.${userId}.`)) localStorage.removeItem(key);
  }
});

// ---------------------------------------------------------------- chats

async function loadChats() {
  let items;
  try {
    items = await api.listChats();
  } catch (error) {
    console.warn("chat list unavailable", error);
    return;
  }
  const seen = new Set();
  for (const item of items) {
    seen.add(item.chat_id);
    ui.chats.set(item.chat_id, item);
    if (item.other_member) rememberName(item.other_member.user_id, item.other_member.display_name);
    ui.messenger?.track(item.chat_id, item.last_message?.sequence ?? 0);
    if (ui.lastRead[item.chat_id] === undefined) {
      // A chat new to this browser: what the server says was delivered counts as read.
      ui.lastRead[item.chat_id] = Math.max(
        0,
        (item.last_message?.sequence ?? 0) - (item.pending_ack_count ?? 0),
      );
    }
  }
  for (const chatId of [...ui.chats.keys()]) {
    if (!seen.has(chatId)) ui.chats.delete(chatId);
  }
  saveLastRead();
  ui.listDirty = true;
  scheduleRender();
}

function scheduleChatReload() {
  clearTimeout(ui.reloadTimer);
  ui.reloadTimer = setTimeout(() => void loadChats(), 300);
}

/** @param {string} chatId */
async function openChat(chatId) {
  ui.active = chatId;
  history.replaceState(null, "", `#${chatId}`);
  $("app").classList.add("in-chat");
  ui.conversationDirty = true;
  ui.listDirty = true;
  scheduleRender();
  const messenger = ui.messenger;
  if (messenger === null) return;
  messenger.track(chatId, ui.chats.get(chatId)?.last_message?.sequence ?? 0);
  try {
    const detail = await api.getChat(chatId);
    ui.details.set(chatId, detail);
    for (const member of detail.members) rememberName(member.user_id, member.display_name);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      ui.chats.delete(chatId);
      closeChat();
      return;
    }
  }
  if (ui.active === chatId) {
    ui.conversationDirty = true;
    scheduleRender();
    $("composer-input").focus();
  }
}

function closeChat() {
  ui.active = null;
  history.replaceState(null, "", location.pathname);
  $("app").classList.remove("in-chat");
  ui.conversationDirty = true;
  ui.listDirty = true;
  scheduleRender();
}

$("back").addEventListener("click", closeChat);

/** @param {any} chat */
function titleOf(chat) {
  if (chat === undefined) return "Chat";
  if (chat.type === "group") return chat.name ?? "Group";
  const other =
    chat.other_member ??
    ui.details.get(chat.chat_id)?.members?.find((/** @type {any} */ m) => m.user_id !== api.me?.user_id);
  return other ? nameOf(other.user_id) : "Direct chat";
}

/** @param {string} userId @param {string | null | undefined} name */
function rememberName(userId, name) {
  if (name) ui.names.set(userId, name);
}

/** @param {string} userId */
function nameOf(userId) {
  if (userId === api.me?.user_id) return "You";
  return ui.names.get(userId) ?? `User …${userId.slice(-4)}`;
}

// ---------------------------------------------------------------- rendering

function scheduleRender() {
  if (ui.renderQueued) return;
  ui.renderQueued = true;
  requestAnimationFrame(() => {
    ui.renderQueued = false;
    if (ui.listDirty) renderChatList();
    if (ui.conversationDirty) renderConversation();
    ui.listDirty = false;
    ui.conversationDirty = false;
  });
}

function renderChatList() {
  const messenger = ui.messenger;
  if (messenger === null) return;
  const rows = [...ui.chats.values()].map((chat) => {
    const local = messenger.messagesOf(chat.chat_id);
    const last = local.at(-1);
    const previewFrom = last ? last.sender_id : chat.last_message?.sender_id;
    const preview = last ? last.content : (chat.last_message?.content_preview ?? "");
    const time = last ? last.created_at : (chat.last_message?.created_at ?? chat.updated_at);
    if (ui.active === chat.chat_id && last) markRead(chat.chat_id, last.sequence);
    const lastRead = ui.lastRead[chat.chat_id] ?? 0;
    const unread = local.filter((m) => m.sequence > lastRead && m.sender_id !== api.me?.user_id).length;
    return { chat, preview, previewFrom, time, unread };
  });
  rows.sort((a, b) => String(b.time).localeCompare(String(a.time)));
  const list = $("chat-list");
  list.replaceChildren(
    ...rows.map(({ chat, preview, previewFrom, time, unread }) => {
      const title = titleOf(chat);
      const avatar = h("span", { class: "avatar", "aria-hidden": "true" });
      paintAvatar(avatar, chat.other_member?.user_id ?? chat.chat_id, title);
      const who =
        previewFrom === api.me?.user_id
          ? "You: "
          : chat.type === "group" && previewFrom
            ? `${nameOf(previewFrom)}: `
            : "";
      const item = h("li", { class: "chat-item", "data-chat-id": chat.chat_id, tabindex: "0" }, [
        avatar,
        h("div", { class: "chat-item-body" }, [
          h("div", { class: "chat-item-top" }, [
            h("span", { class: "chat-item-name" }, [title]),
            h("span", { class: "chat-item-time" }, [time ? shortTime(time) : ""]),
          ]),
          h("span", { class: "chat-item-preview" }, [
            preview
              ? who + preview
              : chat.type === "group"
                ? `${chat.member_count} members`
                : "No messages yet",
          ]),
        ]),
        ...(unread > 0
          ? [h("span", { class: "badge", "aria-label": `${unread} unread` }, [String(unread)])]
          : []),
      ]);
      if (chat.chat_id === ui.active) item.setAttribute("aria-current", "true");
      item.addEventListener("click", () => void openChat(chat.chat_id));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter") void openChat(chat.chat_id);
      });
      return item;
    }),
  );
  $("no-chats").hidden = rows.length > 0;
  const unread = rows.reduce((sum, row) => sum + row.unread, 0);
  document.title = unread > 0 ? `(${unread}) Messages` : "Messages";
}

function renderConversation() {
  const chatId = ui.active;
  const open = chatId !== null && ui.messenger !== null;
  $("no-conversation").hidden = open;
  $("conversation-head").hidden = !open;
  $("messages").hidden = !open;
  $("composer").hidden = !open;
  if (!open || ui.messenger === null) return;
  const messenger = ui.messenger;
  const chat = ui.chats.get(chatId);
  const detail = ui.details.get(chatId);
  $("chat-title").textContent = titleOf(chat ?? detail);
  const type = chat?.type ?? detail?.type;
  $("chat-subtitle").textContent =
    type === "group"
      ? (detail?.members ?? []).map((/** @type {any} */ m) => nameOf(m.user_id)).join(", ") ||
        `${chat?.member_count ?? ""} members`
      : "Direct chat";
  $("add-member").hidden = type !== "group";

  const box = $("messages");
  const pinned = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const me = api.me?.user_id;
  const group = type === "group";
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
  $("message-list").replaceChildren(...items);
  $("load-older").hidden = !messenger.hasOlder(chatId);
  if (pinned) box.scrollTop = box.scrollHeight;
}

$("load-older").addEventListener("click", async () => {
  const chatId = ui.active;
  if (chatId === null || ui.messenger === null) return;
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  await busy($("load-older"), () =>
    /** @type {Messenger} */ (ui.messenger).loadOlder(chatId).catch(() => {}),
  );
  requestAnimationFrame(() => {
    box.scrollTop = box.scrollHeight - fromBottom;
  });
});

// ---------------------------------------------------------------- composer

const input = $("composer-input");

input.addEventListener("input", () => {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  const bytes = utf8Bytes(input.value);
  const count = $("composer-count");
  count.hidden = bytes < MAX_CONTENT_BYTES - 500;
  count.textContent = `${bytes}/${MAX_CONTENT_BYTES}`;
  count.classList.toggle("over", bytes > MAX_CONTENT_BYTES);
});

input.addEventListener("keydown", (/** @type {KeyboardEvent} */ event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});

$("composer").addEventListener("submit", (/** @type {Event} */ event) => {
  event.preventDefault();
  const text = input.value;
  // MS-06: 1-4096 UTF-8 bytes; whitespace-only is not worth a message.
  if (ui.active === null || ui.messenger === null || text.trim() === "") return;
  if (utf8Bytes(text) > MAX_CONTENT_BYTES) return;
  ui.messenger.send(ui.active, text);
  input.value = "";
  input.dispatchEvent(new Event("input"));
  const box = $("messages");
  requestAnimationFrame(() => {
    box.scrollTop = box.scrollHeight;
  });
});

setUpDialogs(api, {
  activeChat: () => ui.active,
  rememberName,
  created: async (created) => {
    for (const member of created.members ?? []) rememberName(member.user_id, member.display_name);
    ui.details.set(created.chat_id, created);
    if (!ui.chats.has(created.chat_id)) ui.chats.set(created.chat_id, { ...created, last_message: null });
    await loadChats();
    await openChat(created.chat_id);
  },
  added: async (chatId) => {
    await openChat(chatId);
    void loadChats();
  },
});

// ---------------------------------------------------------------- helpers

/** @param {string} chatId @param {number} sequence */
function markRead(chatId, sequence) {
  if (document.visibilityState !== "visible") return;
  if ((ui.lastRead[chatId] ?? 0) >= sequence) return;
  ui.lastRead[chatId] = sequence;
  saveLastRead();
}

function readLastRead() {
  try {
    return JSON.parse(localStorage.getItem(`mp.${api.me?.user_id}.last_read`) ?? "{}");
  } catch {
    return {};
  }
}

function saveLastRead() {
  localStorage.setItem(`mp.${api.me?.user_id}.last_read`, JSON.stringify(ui.lastRead));
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    ui.listDirty = true;
    scheduleRender();
  }
});

// ---------------------------------------------------------------- boot

if (api.signedIn) showApp();
else showLogin();
