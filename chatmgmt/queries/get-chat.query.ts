import type { ChatId } from "../../runtime/ids.js";
import type { ChatRecord, MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { Caller } from "../auth/sessions.js";

/** One chat with its members, for a member (strongly consistent). */
export class GetChatQuery {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
  ) {}
}

export interface NamedMember {
  readonly membership: MembershipRecord;
  readonly displayName: string | null;
}

export interface ChatDetail {
  readonly chat: ChatRecord;
  readonly members: NamedMember[];
  readonly myMembership: MembershipRecord;
  readonly currentSequence: number;
  readonly lastAckedSequence: number;
}
