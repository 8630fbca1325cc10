// The WebSocket connection (spec/protocol.md): `/v1/ws?token=…&device_id=…`, nothing sent before
// `connection_established` (CL-03), heartbeats (CL-04), `connection_closing` (CL-05), reconnect with backoff
// 1 s doubling to 30 s ±25% (CL-06), request/reply correlation by `request_id`.

/** @typedef {"connecting" | "syncing" | "online" | "reconnecting" | "offline"} ConnectionState */
/** @typedef {{ type: string, request_id?: string, timestamp?: string, payload: any }} Frame */

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
/** A heartbeat not answered within this long means the socket is dead even if the browser has not noticed. */
const HEARTBEAT_REPLY_MS = 10_000;
/** A request (send_message, sync_request) not answered within this long is failed and retried by its owner. */
export const REQUEST_TIMEOUT_MS = 10_000;

export class RequestFailed extends Error {
  /** @param {string} code @param {string} message @param {unknown} [details] */
  constructor(code, message, details) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** ±25% jitter around `ms` (CL-06). @param {number} ms */
const jitter = (ms) => Math.round(ms * (0.75 + Math.random() * 0.5));

export class Connection {
  /**
   * @param {{
   *   url: () => string,
   *   prepare: () => Promise<boolean>,
   *   refresh: () => Promise<boolean>,
   *   onEstablished: (payload: any) => void,
   *   onFrame: (frame: Frame) => void,
   *   onState: (state: ConnectionState, detail: { retryAt?: number, reason?: string }) => void,
   *   beforeClose: () => void,
   * }} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.established = false;
    this.running = false;
    this.attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.heartbeatTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.heartbeatDeadline = undefined;
    this.heartbeatIntervalMs = 30_000;
    /** @type {Map<string, { resolve: (f: Frame) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> }>} */
    this.pending = new Map();
    /** @type {ConnectionState} */
    this.state = "offline";
    this.lastRttMs = 0;
    this.refusals = 0;
    this.onOnline = () => this.connectNow();
    this.onOffline = () => this.goOffline("the browser reports no network");
  }

  start() {
    if (this.running) return;
    this.running = true;
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
    if (navigator.onLine === false) this.goOffline("the browser reports no network");
    else this.open("connecting");
  }

  /** Graceful stop: acks flushed by the owner's `beforeClose`, then a normal close (AK-04). */
  stop() {
    this.running = false;
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    clearTimeout(this.retryTimer);
    this.closeSocket(1000, "client stop");
    this.setState("offline", {});
  }

  get ready() {
    return this.established && this.socket?.readyState === WebSocket.OPEN;
  }

  /** @param {Frame} frame */
  send(frame) {
    if (!this.ready || !this.socket) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a request frame and resolves with its reply; rejects with RequestFailed on an `error` reply, on a
   * timeout, or when the connection drops first.
   * @param {string} type @param {Record<string, unknown>} payload @returns {Promise<Frame>}
   */
  request(type, payload) {
    const requestId = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      if (!this.send({ type, request_id: requestId, payload })) {
        reject(new RequestFailed("NOT_CONNECTED", "not connected"));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestFailed("TIMEOUT", `no reply to ${type} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer });
    });
  }

  /** Reconnect at once (the network came back, or the user asked); resets the backoff. */
  connectNow() {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    if (this.socket === null) this.open("connecting");
  }

  /** Drops the connection and comes back through the backoff (after SLOW_CONSUMER, RS-03). */
  restart() {
    this.closeSocket(4000, "client restart");
    this.scheduleReconnect(BASE_DELAY_MS);
  }

  // --- internals ---

  /** @param {ConnectionState} state */
  async open(state) {
    if (!this.running || this.socket !== null) return;
    this.setState(state, {});
    if (!(await this.hooks.prepare())) {
      // Signed out, or tokens could not be refreshed for now (network): try again later.
      if (this.running) this.scheduleReconnect();
      return;
    }
    if (!this.running || this.socket !== null) return;
    if (navigator.onLine === false) {
      this.goOffline("the browser reports no network");
      return;
    }
    let socket;
    try {
      socket = new WebSocket(this.hooks.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.established = false;
    socket.onmessage = (event) => this.receive(socket, event.data);
    socket.onclose = (event) => this.closed(socket, event.code);
    socket.onerror = () => {};
  }

  /** @param {WebSocket} socket @param {unknown} data */
  receive(socket, data) {
    if (socket !== this.socket) return;
    /** @type {Frame} */
    let frame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      console.warn("unparseable frame", data);
      return;
    }
    this.armHeartbeatDeadline(false);
    switch (frame.type) {
      case "connection_established":
        this.established = true;
        this.attempt = 0;
        this.heartbeatIntervalMs = Number(frame.payload?.heartbeat_interval_ms) || 30_000;
        this.scheduleHeartbeat();
        this.hooks.onEstablished(frame.payload);
        return;
      case "heartbeat_ack": {
        const sentAt = Number(frame.request_id?.split(":")[1]);
        if (Number.isFinite(sentAt)) this.lastRttMs = Date.now() - sentAt;
        return;
      }
      case "connection_closing":
        this.closing(frame.payload ?? {});
        return;
      default:
        break;
    }
    const waiter = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
    if (waiter !== undefined) {
      this.pending.delete(/** @type {string} */ (frame.request_id));
      clearTimeout(waiter.timer);
      if (frame.type === "error") {
        waiter.reject(
          new RequestFailed(
            frame.payload?.code ?? "INTERNAL_ERROR",
            frame.payload?.message ?? "",
            frame.payload?.details,
          ),
        );
      } else {
        waiter.resolve(frame);
      }
      return;
    }
    this.hooks.onFrame(frame);
  }

  /** CL-05: stop sending, flush acks, reconnect after the server's delay (plus jitter). @param {any} payload */
  closing(payload) {
    const reason = String(payload.reason ?? "");
    this.hooks.beforeClose();
    this.established = false;
    if (reason === "duplicate_connection") {
      // The same device connected again (this browser, another tab): do not fight over the connection.
      this.closeSocket(1000, "replaced");
      this.running = false;
      this.setState("offline", { reason: "This chat is open in another tab. Reload to use it here." });
      return;
    }
    this.closeSocket(1000, "closing");
    const delay = Number(payload.reconnect_delay_ms) || BASE_DELAY_MS;
    if (reason === "token_expired") {
      void this.hooks.refresh().then(() => this.scheduleReconnect(delay));
      return;
    }
    this.scheduleReconnect(delay);
  }

  /** @param {WebSocket} socket @param {number} code */
  closed(socket, code) {
    if (socket !== this.socket) return;
    const wasEstablished = this.established;
    this.socket = null;
    this.established = false;
    this.stopHeartbeat();
    this.failPending();
    if (!this.running) return;
    if (navigator.onLine === false) {
      this.goOffline("the browser reports no network");
      return;
    }
    // Refused before `connection_established`: the browser hides the HTTP status. `prepare` refreshes a token
    // that is about to expire; a token refused anyway (clock skew, revoked) is refreshed every third refusal,
    // not on each one, since every refresh rotates the refresh token.
    if (wasEstablished) this.refusals = 0;
    else if (code !== 1000 && ++this.refusals % 3 === 0) void this.hooks.refresh();
    this.scheduleReconnect();
  }

  /** @param {number} [delayMs] */
  scheduleReconnect(delayMs) {
    if (!this.running || this.socket !== null) return;
    clearTimeout(this.retryTimer);
    const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const wait = jitter(delayMs ?? backoff);
    this.setState("reconnecting", { retryAt: Date.now() + wait });
    this.retryTimer = setTimeout(() => this.open("reconnecting"), wait);
  }

  /** @param {string} reason */
  goOffline(reason) {
    clearTimeout(this.retryTimer);
    if (this.socket !== null) {
      this.hooks.beforeClose();
      const socket = this.socket;
      this.socket = null;
      this.established = false;
      this.stopHeartbeat();
      this.failPending();
      socket.close(1000, "offline");
    }
    this.setState("offline", { reason });
  }

  /** @param {number} code @param {string} reason */
  closeSocket(code, reason) {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    this.established = false;
    this.stopHeartbeat();
    this.failPending();
    try {
      socket.close(code, reason);
    } catch {
      socket.close();
    }
  }

  failPending() {
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new RequestFailed("NOT_CONNECTED", "the connection closed"));
      this.pending.delete(id);
    }
  }

  /** CL-04: every interval ±10%; the request id carries the send time to measure round trips (EH-05). */
  scheduleHeartbeat() {
    clearTimeout(this.heartbeatTimer);
    const wait = Math.round(this.heartbeatIntervalMs * (0.9 + Math.random() * 0.2));
    this.heartbeatTimer = setTimeout(() => {
      if (this.send({ type: "heartbeat", request_id: `hb:${Date.now()}`, payload: {} })) {
        this.armHeartbeatDeadline(true);
        this.scheduleHeartbeat();
      }
    }, wait);
  }

  /** @param {boolean} arm */
  armHeartbeatDeadline(arm) {
    clearTimeout(this.heartbeatDeadline);
    this.heartbeatDeadline = undefined;
    if (!arm) return;
    this.heartbeatDeadline = setTimeout(() => {
      console.warn("no reply to a heartbeat: reconnecting");
      this.restart();
    }, HEARTBEAT_REPLY_MS);
  }

  stopHeartbeat() {
    clearTimeout(this.heartbeatTimer);
    this.armHeartbeatDeadline(false);
  }

  /** @param {ConnectionState} state @param {{ retryAt?: number, reason?: string }} detail */
  setState(state, detail) {
    this.state = state;
    this.hooks.onState(state, detail);
  }
}
