// The "New chat" and "Add member" dialogs: people are given by phone number (resolved with
// POST /users/lookup) or by user id.

import { $, busy, describe, normalisePhone, PHONE, USER_ID } from "./dom.js";

/**
 * @param {import("./api.js").Api} api
 * @param {{
 *   activeChat: () => string | null,
 *   rememberName: (userId: string, name: string | null) => void,
 *   created: (chat: any) => Promise<void>,
 *   added: (chatId: string) => Promise<void>,
 * }} hooks
 */
export function setUpDialogs(api, hooks) {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () =>
      /** @type {HTMLDialogElement} */ (button.closest("dialog")).close(),
    );
  }

  $("new-chat").addEventListener("click", () => {
    $("new-chat-error").textContent = "";
    $("new-chat-members").value = "";
    $("group-name").value = "";
    setChatType("direct");
    $("new-chat-dialog").showModal();
  });

  for (const radio of document.querySelectorAll('input[name="type"]')) {
    radio.addEventListener("change", () => setChatType(/** @type {HTMLInputElement} */ (radio).value));
  }

  /** @param {string} type */
  function setChatType(type) {
    /** @type {HTMLInputElement} */ (document.querySelector(`input[name="type"][value="${type}"]`)).checked =
      true;
    const group = type === "group";
    $("group-name").hidden = !group;
    $("group-name-label").hidden = !group;
    $("group-name").required = group;
    $("new-chat-members-label").textContent = group
      ? "Members (phone numbers or user ids)"
      : "Phone number or user id";
  }

  $("new-chat-form").addEventListener("submit", async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const type = /** @type {HTMLInputElement} */ (document.querySelector('input[name="type"]:checked')).value;
    const entries = String($("new-chat-members").value)
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "");
    $("new-chat-error").textContent = "";
    if (type === "direct" && entries.length !== 1) {
      $("new-chat-error").textContent = "A direct chat has exactly one other person.";
      return;
    }
    await busy($("create-chat"), async () => {
      try {
        const ids = await resolveUsers(entries);
        const created = await api.createChat(
          /** @type {"direct"|"group"} */ (type),
          ids,
          type === "group" ? $("group-name").value.trim() : undefined,
        );
        $("new-chat-dialog").close();
        await hooks.created(created);
      } catch (error) {
        $("new-chat-error").textContent = describe(error);
      }
    });
  });

  $("add-member").addEventListener("click", () => {
    $("add-member-error").textContent = "";
    $("add-member-input").value = "";
    $("add-member-dialog").showModal();
  });

  $("add-member-form").addEventListener("submit", async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const chatId = hooks.activeChat();
    if (chatId === null) return;
    $("add-member-error").textContent = "";
    await busy($("confirm-add-member"), async () => {
      try {
        const [userId] = await resolveUsers([String($("add-member-input").value).trim()]);
        const member = await api.addMember(chatId, /** @type {string} */ (userId));
        hooks.rememberName(member.user_id, member.display_name);
        $("add-member-dialog").close();
        await hooks.added(chatId);
      } catch (error) {
        $("add-member-error").textContent = describe(error);
      }
    });
  });

  /**
   * User ids for phone numbers (POST /users/lookup) or ids typed as they are.
   * @param {string[]} entries @returns {Promise<string[]>}
   */
  async function resolveUsers(entries) {
    const phones = entries.map(normalisePhone).filter((entry) => PHONE.test(entry));
    const invalid = entries.filter((entry) => !USER_ID.test(entry) && !PHONE.test(normalisePhone(entry)));
    if (invalid.length > 0) throw new Error(`Not a phone number or user id: ${invalid.join(", ")}`);
    /** @type {Map<string, string>} */
    const byPhone = new Map();
    if (phones.length > 0) {
      const found = await api.lookup(phones);
      for (const user of found.users) {
        byPhone.set(user.phone_number, user.user_id);
        hooks.rememberName(user.user_id, user.display_name ?? user.phone_number);
      }
      if (found.not_found.length > 0) throw new Error(`No account for ${found.not_found.join(", ")}`);
    }
    return entries.map((entry) =>
      USER_ID.test(entry) ? entry : /** @type {string} */ (byPhone.get(normalisePhone(entry))),
    );
  }
}
