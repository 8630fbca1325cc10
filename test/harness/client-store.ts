import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The client's durable local state, one JSON file per user and device: per chat the messages it holds and
 * its cursors, and the outbox of sends not yet acknowledged. Every change is written before the client acts
 * on it — a message is stored before it can be acked (AK-03), a send is stored with its client_message_id
 * before it goes out (MS-04) — with write-to-temp, fsync, rename, so a crash leaves the old or the new file.
 */
export interface LocalMessage {
  readonly chat_id: string;
  readonly sequence: number;
  readonly message_id: string;
  readonly sender_id: string;
  readonly content: string;
  readonly content_type: string;
  readonly created_at: string;
}

export interface OutboxEntry {
  readonly client_message_id: string;
  readonly chat_id: string;
  readonly content: string;
  /** Epoch ms of the first attempt (the injected clock's). */
  readonly created_at_ms: number;
}

interface ChatFile {
  /**
   * AK-05: every sequence up to this one is resolved locally (stored, or shown by a sync to be an abandoned
   * allocation); it is what acks report and the sync cursor (RS-02).
   */
  last_acked_sequence: number;
  /** The highest cumulative ack sent to the server; below `last_acked_sequence` while acks are batched. */
  server_acked_sequence: number;
  /** Set when the server said NOT_A_MEMBER / NOT_FOUND / FORBIDDEN: the chat is no longer synced. */
  dropped: string | null;
  messages: LocalMessage[];
}

interface StateFile {
  version: 1;
  user_id: string | null;
  device_id: string;
  chats: Record<string, ChatFile>;
  outbox: OutboxEntry[];
}

export const stateFileFor = (dir: string, userId: string, deviceId: string): string =>
  join(dir, `${userId.replace(/[^A-Za-z0-9_-]/g, "_")}.${deviceId.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);

class ChatState {
  readonly bySequence = new Map<number, LocalMessage>();
  constructor(readonly file: ChatFile) {
    for (const message of file.messages) this.bySequence.set(message.sequence, message);
  }
}

export class ClientStore {
  private readonly state: StateFile;
  private readonly chats = new Map<string, ChatState>();
  private dirty = false;

  private constructor(
    readonly path: string,
    state: StateFile,
  ) {
    this.state = state;
    for (const [chatId, chat] of Object.entries(state.chats)) this.chats.set(chatId, new ChatState(chat));
  }

  /** Opens the file, or starts an empty state (not written until the first change). */
  static open(path: string, defaults: { deviceId: string; userId?: string }): ClientStore {
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(path, "utf8")) as StateFile;
      if (state.version !== 1) throw new Error(`unsupported client state version in ${path}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      state = {
        version: 1,
        user_id: defaults.userId ?? null,
        device_id: defaults.deviceId,
        chats: {},
        outbox: [],
      };
    }
    return new ClientStore(path, state);
  }

  /** CL-02: the device id stays the same across restarts of this state file. */
  get deviceId(): string {
    return this.state.device_id;
  }

  get userId(): string | null {
    return this.state.user_id;
  }

  setUserId(userId: string): void {
    if (this.state.user_id === userId) return;
    this.state.user_id = userId;
    this.dirty = true;
  }

  /** Chats the client knows and still syncs. */
  activeChats(): string[] {
    return [...this.chats.entries()].filter(([, chat]) => chat.file.dropped === null).map(([id]) => id);
  }

  knows(chatId: string): boolean {
    return this.chats.has(chatId);
  }

  /** Starts tracking a chat (again: EH-03, a drop is never a cached authorization decision). */
  track(chatId: string): void {
    const chat = this.chats.get(chatId);
    if (chat === undefined) {
      const file: ChatFile = {
        last_acked_sequence: 0,
        server_acked_sequence: 0,
        dropped: null,
        messages: [],
      };
      this.state.chats[chatId] = file;
      this.chats.set(chatId, new ChatState(file));
      this.dirty = true;
    } else if (chat.file.dropped !== null) {
      chat.file.dropped = null;
      this.dirty = true;
    }
  }

  drop(chatId: string, reason: string): void {
    const chat = this.chats.get(chatId);
    if (chat === undefined || chat.file.dropped === reason) return;
    chat.file.dropped = reason;
    this.dirty = true;
  }

  droppedReason(chatId: string): string | null {
    return this.chats.get(chatId)?.file.dropped ?? null;
  }

  has(chatId: string, sequence: number): boolean {
    const chat = this.chats.get(chatId);
    return chat !== undefined && (sequence <= chat.file.last_acked_sequence || chat.bySequence.has(sequence));
  }

  /** Stores a message unless held already (MR-02, by `(chat_id, sequence)`); true when it is new. */
  addMessage(message: LocalMessage): boolean {
    this.track(message.chat_id);
    const chat = this.chats.get(message.chat_id) as ChatState;
    if (chat.bySequence.has(message.sequence)) return false;
    chat.bySequence.set(message.sequence, message);
    chat.file.messages.push(message);
    this.dirty = true;
    return true;
  }

  /** MR-01: ordered by sequence, never by arrival. */
  messages(chatId: string): LocalMessage[] {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return [];
    return [...chat.bySequence.values()].sort((a, b) => a.sequence - b.sequence);
  }

  lastAcked(chatId: string): number {
    return this.chats.get(chatId)?.file.last_acked_sequence ?? 0;
  }

  serverAcked(chatId: string): number {
    return this.chats.get(chatId)?.file.server_acked_sequence ?? 0;
  }

  /**
   * Advances the cursor: to `resolvedThrough` (a sync page vouches for everything up to its last message,
   * D3), then over every consecutive message held. Returns how many sequences the cursor moved.
   */
  advance(chatId: string, resolvedThrough = 0): number {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return 0;
    const before = chat.file.last_acked_sequence;
    let cursor = Math.max(before, resolvedThrough);
    while (chat.bySequence.has(cursor + 1)) cursor++;
    if (cursor !== before) {
      chat.file.last_acked_sequence = cursor;
      this.dirty = true;
    }
    return cursor - before;
  }

  /** The highest sequence held for a chat (above the cursor when a gap is open). */
  highestHeld(chatId: string): number {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return 0;
    let top = chat.file.last_acked_sequence;
    for (const sequence of chat.bySequence.keys()) top = Math.max(top, sequence);
    return top;
  }

  markServerAcked(chatId: string, sequence: number): void {
    const chat = this.chats.get(chatId);
    if (chat === undefined || chat.file.server_acked_sequence >= sequence) return;
    chat.file.server_acked_sequence = sequence;
    this.dirty = true;
  }

  outbox(): readonly OutboxEntry[] {
    return this.state.outbox;
  }

  addToOutbox(entry: OutboxEntry): void {
    this.state.outbox.push(entry);
    this.dirty = true;
  }

  removeFromOutbox(clientMessageId: string): OutboxEntry | undefined {
    const index = this.state.outbox.findIndex((entry) => entry.client_message_id === clientMessageId);
    if (index < 0) return undefined;
    const [entry] = this.state.outbox.splice(index, 1);
    this.dirty = true;
    return entry;
  }

  /** Writes the file if anything changed since the last write; durable when this returns. */
  save(): void {
    if (!this.dirty) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(temporary, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(this.state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    this.dirty = false;
  }
}
