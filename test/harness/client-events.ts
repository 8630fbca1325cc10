import type { ClientStateName, Connectivity } from "./client.machine.js";
import type { LocalMessage } from "./client-store.js";
import type { ClientFrame, ServerFrame } from "./wire.js";

/** What a MessagingClient tells its listeners (tests, the CLI, a user interface). */
export interface ClientEvents {
  /** CL-08: every change of contract state or connectivity. */
  state: { state: ClientStateName; connectivity: Connectivity; reason: string | null };
  /** A message newly stored locally (push or sync), in arrival order; `messages()` gives sequence order. */
  message: LocalMessage;
  /** A push already held (MR-02). */
  duplicate: { chatId: string; sequence: number };
  /** A push above the cursor (MR-05): a sync follows. */
  gap: { chatId: string; after: number; seen: number };
  synced: { chatId: string; lastAckedSequence: number };
  acked: { clientMessageId: string; chatId: string; messageId: string; sequence: number; createdAt: string };
  send_timeout: { clientMessageId: string; attempts: number };
  send_retry: { clientMessageId: string; delayMs: number };
  send_failed: { clientMessageId: string; chatId: string; code: string };
  chat_dropped: { chatId: string; reason: string };
  server_error: {
    code: string;
    message: string;
    requestId: string | undefined;
    details: Record<string, unknown> | undefined;
  };
  closing: { reason: string; reconnectDelayMs: number };
  rejected: { status: number; error: string; retryAfterMs?: number };
  reconnect_scheduled: { delayMs: number; reason: string | null; attempt: number };
  token_refreshed: { expiresAtMs: number | undefined };
  unknown_frame: { type: string };
  rtt: { rttMs: number };
  sent: ClientFrame;
  received: ServerFrame;
}

type Listener<T> = (value: T) => void;

export class ClientEmitter {
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();

  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])])
      (listener as Listener<ClientEvents[K]>)(value);
  }
}
