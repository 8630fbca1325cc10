// The composer: grows with its text up to a limit, counts UTF-8 bytes near the cap (MS-06), sends on Enter
// (Shift+Enter for a new line) and keeps the conversation scrolled to the message just sent.

import { $ } from "./dom.js";
import { MAX_CONTENT_BYTES, utf8Bytes } from "./messenger.js";

/** @param {{ send: (text: string) => boolean }} target sends `text` to the open chat; false when none is open */
export function setUpComposer(target) {
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
    if (text.trim() === "" || utf8Bytes(text) > MAX_CONTENT_BYTES) return;
    if (!target.send(text)) return;
    input.value = "";
    input.dispatchEvent(new Event("input"));
    const box = $("messages");
    requestAnimationFrame(() => {
      box.scrollTop = box.scrollHeight;
    });
  });
}
