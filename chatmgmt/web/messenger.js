// Messages on this device: ordered by (chat_id, sequence), deduplicated, kept in localStorage; the outbox of
// unacknowledged sends (MS-01..07); sync after every (re)connect (RS-01, RS-02, RS-05); cumulative, batched
// acks (AK-01..06); and the delivery state the server recorded, for the ✓✓ tick.
//
// Its steps live beside it: the outbox (messenger-outbox.js) and acks with the ticks they feed
// (messenger-acks.js); the state they work on is this class's.

import { Connection, RequestFailed } from "./connection.js";
import { LocalStore } from "./local-store.js";
import { flushAcks, maybeFlushAcks, pollDelivered, refreshDeliveryState } from "./messenger-acks.js";
import { acknowledged, flushOutbox, transmit } from "./messenger-outbox.js";

/** @typedef {import("./local-store.js").Message} Message */
/** @typedef {import("./local-store.js").Outgoing} Outgoing */
/** @typedef {import("./local-store.js").ChatState} ChatState */

const ACK_EVERY_MS = 5_000;
/** How often chats with undelivered sent messages ask for the other members' acknowledgements. */
const DELIVERED_POLL_MS = 2_000;
const SYNC_PAGE = 100;
const SYNC_IN_FLIGHT = 5;
/** A fresh device starts this many messages below a chat's newest, not at sequence 0. */
const FIRST_SYNC_BACKLOG = 50;

export const MAX_CONTENT_BYTES = 4096;
/** @param {string} text */
export const utf8Bytes = (text) => new TextEncoder().encode(text).length;

export class Messenger {
  /**
   * @param {{
   *   api: import("./api.js").Api,
   *   deviceId: string,
   *   onChange: (chatIds: Set<string>) => void,
   *   onState: (state: import("./connection.js").ConnectionState, detail: { retryAt?: number, reason?: string }) => void,
   *   onUnknownChat: (chatId: string) => void,
   * }} deps
   */
  constructor(deps) {
    this.deps = deps;
    this.store = new LocalStore(deps.api.me?.user_id ?? "anonymous");
    /** @type {Map<string, ChatState>} */
    this.chats = new Map();
    /** @type {Outgoing[]} */
    this.outbox = this.store.loadOutbox();
    /** @type {Set<string>} client_message_ids with a send in flight on the current connection */
    this.inFlight = new Set();
    /** @type {Set<string>} */
    this.dirty = new Set();
    /** @type {Set<string>} */
    this.changed = new Set();
    this.ackTimer = setInterval(() => this.flushAcks(), ACK_EVERY_MS);
    // Delivered ticks: how far the other members' devices have acknowledged, read back while it matters.
    this.deliveredTimer = setInterval(() => void this.pollDelivered(), DELIVERED_POLL_MS);
    /** @type {ReturnType<typeof setTimeout> | undefined} the outbox's next retry (messenger-outbox.js) */
    this.retryTimer = undefined;
    this.connection = new Connection({
      url: () => {
        const scheme = location.protocol === "https:" ? "wss" : "ws";
        const query = `token=${encodeURIComponent(deps.api.accessToken)}&device_id=${encodeURIComponent(deps.deviceId)}`;
        return `${scheme}://${location.host}/v1/ws?${query}`;
      },
      // CL-07: refresh a token that expires within a minute before using it for a connection.
      prepare: async () => {
        if (!deps.api.signedIn) return false;
        if (deps.api.secondsLeft() > 60) return true;
        return deps.api.refresh();
      },
      refresh: () => deps.api.refresh(),
      onEstablished: () => void this.resync(),
      onFrame: (frame) => this.onFrame(frame),
      onState: (state, detail) => deps.onState(state, detail),
      beforeClose: () => this.flushAcks(),
    });
    this.onPageHide = () => {
      this.flushAcks();
      this.persistDirty();
    };
    addEventListener("pagehide", this.onPageHide);
  }

  start() {
    this.connection.start();
  }

  stop() {
    this.flushAcks();
    this.persistDirty();
    clearInterval(this.ackTimer);
    clearInterval(this.deliveredTimer);
    clearTimeout(this.retryTimer);
    removeEventListener("pagehide", this.onPageHide);
    this.connection.stop();
  }

  // --- chats ---

  /** Makes the chat known (its local state loaded, or started near its newest message on a fresh device). @param {string} chatId @param {number} [newestSequence] */
  track(chatId, newestSequence = 0) {
    let chat = this.chats.get(chatId);
    if (chat !== undefined) return chat;
    const saved = this.store.loadChat(chatId);
    chat = {
      messages: new Map(),
      cursor: 0,
      floor: 0,
      ackSent: 0,
      serverAcked: 0,
      deliveredTo: 0,
      syncing: false,
      syncAgain: false,
    };
    if (saved !== null) {
      chat.cursor = saved.cursor;
      chat.floor = saved.floor;
      chat.ackSent = saved.ackSent ?? 0;
      for (const message of saved.messages) chat.messages.set(message.sequence, message);
    } else {
      chat.cursor = Math.max(0, newestSequence - FIRST_SYNC_BACKLOG);
      chat.floor = chat.cursor;
    }
    this.chats.set(chatId, chat);
    if (saved === null && this.connection.ready) void this.syncChat(chatId);
    return chat;
  }

  /** The chat's messages in sequence order (MR-01). @param {string} chatId @returns {Message[]} */
  messagesOf(chatId) {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return [];
    return [...chat.messages.values()].sort((a, b) => a.sequence - b.sequence);
  }

  /** @param {string} chatId */
  outgoingOf(chatId) {
    return this.outbox.filter((item) => item.chat_id === chatId);
  }

  /** Whether the server may hold messages below the local ones (`floor` > 0); read through REST history. @param {string} chatId */
  hasOlder(chatId) {
    return (this.chats.get(chatId)?.floor ?? 0) > 0;
  }

  /** Loads the page at and below `floor` from REST history. @param {string} chatId */
  async loadOlder(chatId) {
    const chat = this.chats.get(chatId);
    if (chat === undefined || chat.floor <= 0) return;
    const page = await this.deps.api.history(chatId, chat.floor + 1);
    for (const message of page.messages) this.insert(chatId, message);
    const lowest = page.messages[0]?.sequence ?? 1;
    chat.floor = page.hasMore ? lowest - 1 : 0;
    this.dirty.add(chatId);
    this.touch(chatId);
    this.emit();
  }

  /** @param {string} chatId @param {number} sequence */
  isDelivered(chatId, sequence) {
    return (this.chats.get(chatId)?.deliveredTo ?? 0) >= sequence;
  }

  /** The ✓✓ tick for chats that have a sent message not yet delivered (messenger-acks.js). */
  pollDelivered() {
    return pollDelivered(this);
  }

  // --- sending ---

  /**
   * Queues a message (MS-06 checked by the caller): kept in localStorage under its client_message_id until its
   * send_message_ack (MS-04), sent at once when connected and synced, else when the connection is back (MS-07).
   * @param {string} chatId @param {string} content
   */
  send(chatId, content) {
    /** @type {Outgoing} */
    const item = {
      client_message_id: crypto.randomUUID(),
      chat_id: chatId,
      content,
      created_at: new Date().toISOString(),
    };
    this.outbox.push(item);
    this.saveOutbox();
    this.touch(chatId);
    this.emit();
    if (this.connection.state === "online") void this.transmit(item);
  }
  /** Tries a failed message again, same client_message_id (MS-02). @param {string} clientMessageId */
  retry(clientMessageId) {
    const item = this.outbox.find((entry) => entry.client_message_id === clientMessageId);
    if (item === undefined) return;
    delete item.failed;
    this.saveOutbox();
    this.touch(item.chat_id);
    this.emit();
    if (this.connection.state === "online") void this.transmit(item);
  }

  /** @param {string} clientMessageId */
  discard(clientMessageId) {
    const item = this.outbox.find((entry) => entry.client_message_id === clientMessageId);
    this.outbox = this.outbox.filter((entry) => entry.client_message_id !== clientMessageId);
    this.saveOutbox();
    if (item) this.touch(item.chat_id);
    this.emit();
  }

  /** @param {Outgoing} item */
  transmit(item) {
    return transmit(this, item);
  }

  /** A `send_message_ack` (messenger-outbox.js). @param {Parameters<typeof acknowledged>[1]} ack */
  acknowledged(ack) {
    acknowledged(this, ack);
  }

  flushOutbox() {
    flushOutbox(this);
  }

  // --- receiving ---

  /** @param {import("./connection.js").Frame} frame */
  onFrame(frame) {
    switch (frame.type) {
      case "message": {
        const message = frame.payload;
        if (!this.chats.has(message.chat_id)) {
          this.track(message.chat_id, Math.max(0, message.sequence - 1));
          this.deps.onUnknownChat(message.chat_id);
        }
        this.insert(message.chat_id, message);
        const chat = this.chats.get(message.chat_id);
        // MR-05: a gap below this message is filled by a sync from the cursor (never waited on, MR-03).
        if (chat !== undefined && message.sequence > chat.cursor + 1) void this.syncChat(message.chat_id);
        this.maybeFlushAcks();
        this.emit();
        return;
      }
      case "send_message_ack":
        this.acknowledged(frame.payload);
        return;
      case "sync_response":
        // The reply to a sync that timed out; the retried sync reads the same messages.
        return;
      case "error": {
        const code = frame.payload?.code;
        if (code === "SLOW_CONSUMER") {
          // RS-03: the server dropped pushes for this connection; reconnect and sync everything.
          this.flushAcks();
          this.connection.restart();
        } else if (code === "UNAUTHORIZED") {
          void this.deps.api.refresh().then(() => this.connection.restart());
        } else {
          console.warn("server error", frame.payload);
        }
        return;
      }
      default:
        console.warn("unknown frame type, ignored", frame.type); // EH-02
    }
  }

  /**
   * Adds a message unless (chat_id, sequence) is already here (MR-02), then advances the chat's cursor over
   * the contiguous run above it. Returns whether it was new.
   * @param {string} chatId @param {Message} message
   */
  insert(chatId, message) {
    const chat = this.track(chatId);
    if (chat.messages.has(message.sequence)) return false;
    chat.messages.set(message.sequence, { ...message, chat_id: chatId });
    while (chat.messages.has(chat.cursor + 1)) chat.cursor++;
    this.dirty.add(chatId);
    this.touch(chatId);
    return true;
  }

  /** RS-01: after `connection_established`, sync every known chat (≤5 at once), then send the outbox. */
  async resync() {
    this.connection.setState("syncing", {});
    const queue = [...this.chats.keys()];
    const worker = async () => {
      for (let chatId = queue.shift(); chatId !== undefined; chatId = queue.shift())
        await this.syncChat(chatId);
    };
    await Promise.all(Array.from({ length: SYNC_IN_FLIGHT }, worker));
    if (!this.connection.ready) return;
    this.connection.setState("online", {});
    // An ack lost with the previous connection is sent again: acks are cumulative and monotonic, so the
    // repeat is harmless, and the server's delivery state catches up with the local cursor.
    for (const chat of this.chats.values()) chat.ackSent = Math.min(chat.ackSent, chat.serverAcked);
    this.flushAcks();
    this.flushOutbox();
    void this.refreshDeliveryState([...this.chats.keys()]);
  }

  /** Pages `sync_request` from the local cursor (RS-02) until `has_more` is false. @param {string} chatId */
  async syncChat(chatId) {
    const chat = this.track(chatId);
    if (chat.syncing) {
      chat.syncAgain = true;
      return;
    }
    chat.syncing = true;
    try {
      do {
        chat.syncAgain = false;
        for (let page = 0; page < 1_000; page++) {
          const reply = await this.connection.request("sync_request", {
            chat_id: chatId,
            last_acked_sequence: chat.cursor,
            limit: SYNC_PAGE,
          });
          const { messages, has_more } = reply.payload;
          for (const message of messages) this.insert(chatId, { ...message, chat_id: chatId });
          // Sync returns every stored message above the cursor, so the cursor may pass gaps it skipped (D3).
          const last = messages.at(-1);
          if (last !== undefined && last.sequence > chat.cursor) chat.cursor = last.sequence;
          while (chat.messages.has(chat.cursor + 1)) chat.cursor++;
          this.dirty.add(chatId);
          if (!has_more || messages.length === 0) break;
        }
      } while (chat.syncAgain);
      this.emit();
    } catch (error) {
      const code = error instanceof RequestFailed ? error.code : "";
      if (code === "NOT_A_MEMBER" || code === "NOT_FOUND" || code === "FORBIDDEN") {
        // RS-04: never retried; the chat is dropped locally.
        this.forget(chatId);
        this.deps.onUnknownChat(chatId);
      } else if (code !== "NOT_CONNECTED") {
        console.warn("sync failed", chatId, error);
      }
    } finally {
      chat.syncing = false;
    }
  }

  /** @param {string} chatId */
  forget(chatId) {
    this.chats.delete(chatId);
    this.store.removeChat(chatId);
    this.emit();
  }

  maybeFlushAcks() {
    maybeFlushAcks(this);
  }

  /** One cumulative ack per chat whose cursor moved, after the messages are stored (messenger-acks.js). */
  flushAcks() {
    flushAcks(this);
  }

  /** @param {string[]} chatIds */
  refreshDeliveryState(chatIds) {
    return refreshDeliveryState(this, chatIds);
  }

  // --- storage ---

  /** Writes the chats changed since the last call (AK-03: before their ack is sent). */
  persistDirty() {
    for (const chatId of this.dirty) {
      const chat = this.chats.get(chatId);
      if (chat !== undefined) this.store.saveChat(chatId, chat);
    }
    this.dirty.clear();
  }

  saveOutbox() {
    this.store.saveOutbox(this.outbox);
  }

  // --- change notification ---

  /** @param {string} chatId */
  touch(chatId) {
    this.changed.add(chatId);
  }

  emit() {
    if (this.changed.size === 0) return;
    const changed = this.changed;
    this.changed = new Set();
    this.deps.onChange(changed);
  }
}
