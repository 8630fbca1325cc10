// REST client for /api/v1 (spec/rest-data-auth-chats.md): the `{data}` / `{error}` envelopes, the bearer token,
// and refresh-token rotation on a 401. Tokens and the device id live in localStorage.

const SESSION_KEY = "mp.session";
const DEVICE_KEY = "mp.device_id";

/**
 * @typedef {{ user_id: string, phone_number: string, display_name: string | null }} Me
 * @typedef {{ access_token: string, refresh_token: string, expires_in: number }} Tokens
 * @typedef {{ tokens: Tokens, user: Me }} Session
 */

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {Record<string, unknown>} [details] */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** A stable id of this browser (CL-02): made once, kept in localStorage. */
export function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (id === null || !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) {
    id = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

/** @returns {Session | null} */
export function loadSession() {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null;
  }
}

/** @param {Session | null} session */
function saveSession(session) {
  if (session === null) localStorage.removeItem(SESSION_KEY);
  else localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

/** Seconds since the epoch at which a JWT expires (0 if unreadable). @param {string} token */
export function expiryOf(token) {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = JSON.parse(json).exp;
    return typeof exp === "number" ? exp : 0;
  } catch {
    return 0;
  }
}

export class Api {
  /** @param {{ onSignedOut: () => void }} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {Session | null} */
    this.session = loadSession();
    /** @type {Promise<boolean> | null} */
    this.refreshing = null;
  }

  get signedIn() {
    return this.session !== null;
  }

  get me() {
    return this.session?.user ?? null;
  }

  get accessToken() {
    return this.session?.tokens.access_token ?? "";
  }

  /**
   * One request: JSON in and out, the envelope unwrapped. A 401 refreshes the tokens once and retries.
   * @param {string} method @param {string} path @param {unknown} [body] @param {{ auth?: boolean, headers?: Record<string,string> }} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, body, options = {}) {
    const auth = options.auth ?? true;
    for (let attempt = 0; ; attempt++) {
      /** @type {Record<string, string>} */
      const headers = { "x-request-id": crypto.randomUUID(), ...options.headers };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (auth && this.session) headers.authorization = `Bearer ${this.session.tokens.access_token}`;
      const response = await fetch(`/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 204) return null;
      const json = await response.json().catch(() => ({}));
      if (response.ok) return json;
      const error = json?.error ?? {};
      if (response.status === 401 && auth && attempt === 0 && (await this.refresh())) continue;
      throw new ApiError(
        response.status,
        error.code ?? "INTERNAL_ERROR",
        error.message ?? response.statusText,
        error.details,
      );
    }
  }

  /**
   * Rotates the refresh token. Single-flight in this tab and serialised across tabs (Web Locks), because a
   * rotated refresh token used twice revokes the whole session (D11). Returns false when signed out.
   */
  refresh() {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async rotate() {
    const used = this.session?.tokens.refresh_token;
    const run = async () => {
      // Another tab may have rotated already: adopt its tokens instead of reusing the old refresh token.
      const stored = loadSession();
      if (
        stored &&
        used &&
        stored.tokens.refresh_token !== used &&
        stored.user.user_id === this.session?.user.user_id
      ) {
        this.session = stored;
        return true;
      }
      if (!this.session) return false;
      const response = await fetch("/api/v1/auth/refresh", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-device-id": deviceId(),
          authorization: `Bearer ${this.session.tokens.access_token}`,
        },
        body: JSON.stringify({ refresh_token: this.session.tokens.refresh_token }),
      }).catch(() => null);
      if (response === null) return false; // network down: keep the session, try again later
      if (response.ok) {
        const json = await response.json();
        this.session = { ...this.session, tokens: json.data.tokens };
        saveSession(this.session);
        return true;
      }
      if (response.status === 401 || response.status === 403) this.signOutLocally();
      return false;
    };
    return navigator.locks ? navigator.locks.request("mp.refresh", run) : run();
  }

  /** Seconds until the access token expires. */
  secondsLeft() {
    return this.session ? expiryOf(this.session.tokens.access_token) - Date.now() / 1000 : 0;
  }

  signOutLocally() {
    this.session = null;
    saveSession(null);
    this.hooks.onSignedOut();
  }

  // --- auth ---

  /** @param {string} phone */
  requestOtp(phone) {
    return this.request("POST", "/auth/request-otp", { phone_number: phone }, { auth: false });
  }

  /** The last code sent to `phone` when the server runs in dev mode, else null. @param {string} phone */
  async devOtp(phone) {
    try {
      const json = await this.request("GET", `/dev/otp?phone=${encodeURIComponent(phone)}`, undefined, {
        auth: false,
      });
      return /** @type {string} */ (json.data.otp);
    } catch {
      return null;
    }
  }

  /** @param {string} phone @param {string} otp */
  async verifyOtp(phone, otp) {
    const device = deviceId();
    const json = await this.request(
      "POST",
      "/auth/verify-otp",
      { phone_number: phone, otp, device_id: device },
      { auth: false, headers: { "x-device-id": device } },
    );
    const { user, tokens, is_new_user } = json.data;
    this.session = {
      tokens,
      user: { user_id: user.user_id, phone_number: user.phone_number, display_name: user.display_name },
    };
    saveSession(this.session);
    return { isNewUser: Boolean(is_new_user) };
  }

  async logout() {
    const refresh = this.session?.tokens.refresh_token;
    try {
      await this.request("POST", "/auth/logout", refresh ? { refresh_token: refresh } : undefined);
    } finally {
      this.signOutLocally();
    }
  }

  // --- users ---

  async loadMe() {
    const json = await this.request("GET", "/users/me");
    if (this.session) {
      this.session = { ...this.session, user: json.data };
      saveSession(this.session);
    }
    return json.data;
  }

  /** @param {string} name */
  async setDisplayName(name) {
    const json = await this.request("PATCH", "/users/me", { display_name: name });
    if (this.session) {
      this.session = { ...this.session, user: json.data };
      saveSession(this.session);
    }
    return json.data;
  }

  /** @param {string[]} phones @returns {Promise<{ users: Array<{phone_number: string, user_id: string, display_name: string | null}>, not_found: string[] }>} */
  async lookup(phones) {
    return (await this.request("POST", "/users/lookup", { phone_numbers: phones })).data;
  }

  // --- chats ---

  async listChats() {
    /** @type {any[]} */
    const chats = [];
    let cursor = null;
    for (let page = 0; page < 10; page++) {
      const query = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : "?limit=100";
      const json = await this.request("GET", `/chats${query}`);
      chats.push(...json.data);
      cursor = json.pagination?.next_cursor;
      if (!json.pagination?.has_more || !cursor) break;
    }
    return chats;
  }

  /** @param {string} chatId */
  async getChat(chatId) {
    return (await this.request("GET", `/chats/${encodeURIComponent(chatId)}`)).data;
  }

  /** @param {"direct"|"group"} type @param {string[]} memberIds @param {string} [name] */
  async createChat(type, memberIds, name) {
    const body = type === "group" ? { type, name, member_ids: memberIds } : { type, member_ids: memberIds };
    const json = await this.request("POST", "/chats", body, {
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    return json.data;
  }

  /** @param {string} chatId @param {string} userId */
  async addMember(chatId, userId) {
    const json = await this.request(
      "POST",
      `/chats/${encodeURIComponent(chatId)}/members`,
      { user_id: userId },
      { headers: { "idempotency-key": crypto.randomUUID() } },
    );
    return json.data;
  }

  /** The newest `limit` messages (ascending), or those below `beforeSequence`. @param {string} chatId @param {number} [beforeSequence] */
  async history(chatId, beforeSequence, limit = 50) {
    const bound = beforeSequence === undefined ? "" : `&before_sequence=${beforeSequence}`;
    const json = await this.request(
      "GET",
      `/chats/${encodeURIComponent(chatId)}/messages?limit=${limit}${bound}`,
    );
    return { messages: [...json.data].reverse(), hasMore: Boolean(json.pagination?.has_more) };
  }

  /** @param {string[]} chatIds @returns {Promise<Array<{chat_id: string, last_acked_sequence: number, current_sequence: number}>>} */
  async deliveryStates(chatIds) {
    if (chatIds.length === 0) return [];
    const json = await this.request("GET", `/delivery-state?chat_ids=${chatIds.slice(0, 50).join(",")}`);
    return json.data;
  }
}
