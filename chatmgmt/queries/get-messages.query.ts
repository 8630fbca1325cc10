import type { ChatId } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { Caller } from "../auth/sessions.js";

/** A page of a chat's history (spec §2.2); members only, including messages from before they joined. */
export class GetMessagesQuery {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly page: {
      readonly limit: number;
      readonly direction: "forward" | "backward";
      readonly cursor?: string;
      readonly beforeSequence?: number;
      readonly afterSequence?: number;
    },
  ) {}
}

export interface MessagePage {
  /** Strictly ascending (forward) or strictly descending (backward) by sequence. */
  readonly messages: StoredMessage[];
  readonly senderNames: ReadonlyMap<string, string | null>;
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
}
