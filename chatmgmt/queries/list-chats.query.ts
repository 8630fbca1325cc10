import type { UserId } from "../../runtime/ids.js";
import type { ChatRecord, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { Caller } from "../auth/sessions.js";

/** The caller's chats, paged by an opaque cursor (ordered by chat id, i.e. creation time). */
export class ListChatsQuery {
  constructor(
    readonly caller: Caller,
    readonly limit: number,
    readonly cursor?: string,
  ) {}
}

export interface ChatListItem {
  readonly chat: ChatRecord;
  readonly membership: MembershipRecord;
  readonly lastMessage: StoredMessage | undefined;
  readonly currentSequence: number;
  readonly lastAckedSequence: number;
  /** Direct chats only. */
  readonly otherMember?: { readonly userId: UserId; readonly displayName: string | null };
}

export interface ChatListPage {
  readonly items: ChatListItem[];
  readonly nextCursor: string | null;
}
