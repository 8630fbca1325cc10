// Sign in: phone number, then the 6-digit code (filled in from /api/v1/dev/otp when the server runs in dev
// mode) and, for a new account, a display name.

import { $, busy, describe, normalisePhone, PHONE } from "./dom.js";

/** @param {import("./api.js").Api} api @param {() => void} onSignedIn */
export function setUpSignIn(api, onSignedIn) {
  $("phone-form").addEventListener("submit", async (/** @type {Event} */ event) => {
    event.preventDefault();
    const phone = normalisePhone($("phone").value);
    $("phone-error").textContent = "";
    if (!PHONE.test(phone)) {
      $("phone-error").textContent = "Enter the number with its country code, like +14155550123.";
      return;
    }
    await busy($("send-code"), async () => {
      try {
        await api.requestOtp(phone);
      } catch (error) {
        $("phone-error").textContent = describe(error);
        return;
      }
      $("code-phone").textContent = phone;
      $("phone-form").hidden = true;
      $("code-form").hidden = false;
      $("code").value = "";
      $("code").focus();
      // Dev mode only: the server exposes the last code it "sent" (D11); elsewhere this stays hidden.
      const code = await api.devOtp(phone);
      $("dev-code").hidden = code === null;
      if (code !== null) {
        $("dev-code").textContent = `Dev mode: your code is ${code}`;
        $("code").value = code;
      }
    });
  });

  $("change-phone").addEventListener("click", () => {
    $("code-form").hidden = true;
    $("phone-form").hidden = false;
  });

  $("code-form").addEventListener("submit", async (/** @type {Event} */ event) => {
    event.preventDefault();
    const phone = $("code-phone").textContent;
    const code = $("code").value.trim();
    const name = $("display-name").value.trim();
    $("code-error").textContent = "";
    await busy($("verify-code"), async () => {
      try {
        await api.verifyOtp(phone, code);
        if (name !== "") await api.setDisplayName(name);
      } catch (error) {
        $("code-error").textContent = describe(error);
        return;
      }
      onSignedIn();
    });
  });
}

export function showSignIn() {
  $("app").hidden = true;
  $("login").hidden = false;
  $("phone-form").hidden = false;
  $("code-form").hidden = true;
  $("phone").focus();
}
