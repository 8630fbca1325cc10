import type { ChatId } from "../ids.js";

/**
 * Which process holds each chat's active sequencer (table `actor_activations`), so that messages a crashed
 * owner acknowledged but never published are not left behind in quiet chats (D4, invariant 5). A sequencer
 * writes its marker when it activates and removes it once it passivated with an empty outbox; a marker held
 * by a node that is gone (or by an earlier incarnation of a restarted one) tells the chat's new owner to
 * activate the chat, which republishes everything above `published_through`.
 */
export interface ActivationMarker {
  readonly chatId: ChatId;
  readonly nodeId: string;
  /** Distinguishes the processes a node id has run as (a restart is a new incarnation). */
  readonly incarnation: string;
  readonly activatedAt: number;
}

export interface ActivationPage {
  readonly items: ActivationMarker[];
  /** Continue after this chat id; absent at the end. */
  readonly next?: string;
}

export interface ActivationStore {
  /** Records the holder, replacing whoever held the chat before (the newest activation is the holder). */
  hold(marker: ActivationMarker): Promise<void>;

  /** Removes the marker only if this holder still holds it; false when someone else took it over. */
  release(
    chatId: ChatId,
    holder: { readonly nodeId: string; readonly incarnation: string },
  ): Promise<boolean>;

  /** Every marker once across the pages, in no particular order (a Scan: for recovery sweeps only). */
  scan(page: { readonly limit: number; readonly after?: string }): Promise<ActivationPage>;
}
