// The browser client: sign-in, chat list, and the wiring of the conversation pane (conversation-view.js) and
// the composer (composer.js). Transport and storage live in connection.js / messenger.js; REST in api.js.
// Plain DOM, no framework, no build step.

import { Api, ApiError, deviceId } from "./api.js";
import { setUpComposer } from "./composer.js";
import { renderConversation } from "./conversation-view.js";
import { setUpDialogs } from "./dialogs.js";
import { $, busy, h } from "./dom.js";
import { showConnectionState } from "./indicator.js";
import { Messenger } from "./messenger.js";
import { setUpSignIn, showSignIn } from "./sign-in.js";
import { paintAvatar, shortTime } from "./views.js";

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
    if (ui.conversationDirty) renderConversationPane();
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

function renderConversationPane() {
  const chatId = ui.active;
  renderConversation({
    chatId,
    messenger: ui.messenger,
    chat: chatId === null ? undefined : ui.chats.get(chatId),
    detail: chatId === null ? undefined : ui.details.get(chatId),
    me: api.me?.user_id,
    titleOf,
    nameOf,
  });
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

setUpComposer({
  send: (text) => {
    if (ui.active === null || ui.messenger === null) return false;
    ui.messenger.send(ui.active, text);
    return true;
  },
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
