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

/** A member with how far their devices acknowledged the chat: what "delivered" ticks are made of. */
export interface MemberWithDelivery extends NamedMember {
  readonly lastAckedSequence: number;
}

export interface ChatDetail {
  readonly chat: ChatRecord;
  readonly members: MemberWithDelivery[];
  readonly myMembership: MembershipRecord;
  readonly currentSequence: number;
  readonly lastAckedSequence: number;
}
