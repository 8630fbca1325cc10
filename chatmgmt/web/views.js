// How messages, avatars and times look: pure builders of DOM nodes and text.

import { h } from "./dom.js";

/** What each tick means (shown as a tooltip too). */
export const TICKS = {
  pending: ["◷", "Sending… (kept on this device until the server stores it)"],
  sent: ["✓", "Sent: stored by the server (send_message_ack)"],
  delivered: ["✓✓", "Delivered: every other member's device has acknowledged it (not necessarily read)."],
  failed: ["!", "Not sent"],
  received: ["", ""],
};

/**
 * @param {{ mine: boolean, status: keyof typeof TICKS, sender: string, content: string, time: string, attributes: Record<string, string> }} spec
 */
export function bubble(spec) {
  const [tick, meaning] = TICKS[spec.status];
  return h(
    "li",
    { class: spec.mine ? "message mine" : "message", "data-status": spec.status, ...spec.attributes },
    [
      ...(spec.sender ? [h("span", { class: "message-sender" }, [spec.sender])] : []),
      h("div", { class: "message-text" }, [spec.content]),
      h("div", { class: "message-meta" }, [
        h("time", { datetime: spec.time }, [clockTime(spec.time)]),
        ...(spec.mine ? [h("span", { class: "tick", title: meaning, "aria-label": meaning }, [tick])] : []),
      ]),
    ],
  );
}

/** @param {HTMLElement} element @param {string} seed @param {string} name */
export function paintAvatar(element, seed, name) {
  let hash = 0;
  for (const char of seed) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  element.style.setProperty("--avatar", `hsl(${hash % 360} 55% 45%)`);
  element.textContent = (name.replace(/^User …/, "").trim()[0] ?? "?").toUpperCase();
}

/** @param {string} iso */
export const clockTime = (iso) =>
  new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** @param {string} iso */
export function shortTime(iso) {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString()
    ? clockTime(iso)
    : date.toLocaleDateString([], { month: "short", day: "numeric" });
}

/** @param {string} iso */
export function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86_400_000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
}
