import type { ChatId } from "../ids.js";

/**
 * Which processes hold an active sequencer of each chat (table `actor_activations`), so that messages an
 * owner acknowledged but never published are not left behind in quiet chats (D4, invariant 5).
 *
 * Every holder has a marker of its own: two owners of one chat at once (a ring change one of them has not
 * applied yet, or a node cut off from the heartbeats that still serves its gateways) each keep theirs, so
 * neither can erase the trail of the other. A sequencer writes its marker when it activates and refreshes it
 * before it writes messages once the marker is older than half a lease; it removes it once it drained with
 * its outbox empty. The chat's owner wakes the chat for any marker that is not its own live one, and evicts a
 * marker of another holder only once that holder is certainly gone (a newer incarnation of its node runs)
 * or has not refreshed it for a whole lease: a holder that still writes refreshes first, so a marker is in
 * place whenever unpublished messages may exist.
 */
export interface ActivationMarker {
  readonly chatId: ChatId;
  readonly nodeId: string;
  /** Distinguishes the processes a node id has run as (a restart is a new incarnation). */
  readonly incarnation: string;
  /** When the holder last wrote the marker (activation or refresh), by its clock. */
  readonly activatedAt: number;
}

export interface ActivationHolder {
  readonly nodeId: string;
  readonly incarnation: string;
}

/** The one identity of a marker, `<chat_id>#<node_id>#<incarnation>`: every adapter keys its items by it. */
export const activationKeyOf = (chatId: string, holder: ActivationHolder): string =>
  `${chatId}#${holder.nodeId}#${holder.incarnation}`;

export interface ActivationPage {
  readonly items: ActivationMarker[];
  /** Continue after this position; absent at the end. */
  readonly next?: string;
}

export interface ActivationStore {
  /** Writes (or refreshes) this holder's marker of the chat; never touches another holder's. */
  hold(marker: ActivationMarker): Promise<void>;

  /** Removes this holder's marker; false when it had none (someone evicted it, or it was never written). */
  release(chatId: ChatId, holder: ActivationHolder): Promise<boolean>;

  /**
   * Removes another holder's marker only if it is exactly as read (not refreshed since): the recovery of a
   * gone holder's chats. False when the marker changed or is gone.
   */
  evict(marker: ActivationMarker): Promise<boolean>;

  /** Every marker once across the pages, in no particular order (a Scan: for recovery sweeps only). */
  scan(page: { readonly limit: number; readonly after?: string }): Promise<ActivationPage>;
}
