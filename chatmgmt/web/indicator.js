// The connection indicator in the sidebar and the offline banner over the conversation.

import { $ } from "./dom.js";

/**
 * The connection indicator (CL-08): connecting / online / reconnecting / offline ("syncing" is shown as
 * connecting: the socket is up but missed messages are still being fetched).
 * @param {import("./connection.js").ConnectionState} state @param {{ retryAt?: number, reason?: string }} detail
 */
export function showConnectionState(state, detail) {
  const shown = state === "syncing" ? "connecting" : state;
  const element = $("connection");
  element.dataset.state = shown;
  clearInterval(showConnectionState.timer);
  const label = () => {
    switch (state) {
      case "connecting":
        return "Connecting…";
      case "syncing":
        return "Syncing…";
      case "online":
        return "Online";
      case "reconnecting": {
        const seconds = Math.max(0, Math.ceil(((detail.retryAt ?? 0) - Date.now()) / 1000));
        return seconds > 0 ? `Reconnecting in ${seconds}s…` : "Reconnecting…";
      }
      case "offline":
        return detail.reason?.includes("another tab") ? "Open in another tab" : "Offline";
    }
  };
  $("connection-label").textContent = label();
  element.title = detail.reason ?? "";
  const banner = $("offline-banner");
  banner.hidden = state === "online" || state === "connecting" || state === "syncing";
  banner.textContent =
    state === "offline" && detail.reason?.includes("another tab")
      ? detail.reason
      : "You're offline. New messages are kept here and sent when the connection is back.";
  if (state === "reconnecting") {
    showConnectionState.timer = setInterval(() => {
      $("connection-label").textContent = label();
    }, 1000);
  }
}
/** @type {ReturnType<typeof setInterval> | undefined} */
showConnectionState.timer = undefined;
