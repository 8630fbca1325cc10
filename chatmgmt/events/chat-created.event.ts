import type { UserId } from "../../runtime/ids.js";
import type { ChatRecord } from "../../runtime/ports/chat-store.js";

/** Raised once a chat became `active` (after every database write of its creation). */
export class ChatCreatedEvent {
  constructor(
    readonly chat: ChatRecord,
    /** Intended members, creator first (not authoritative: memberships are). */
    readonly initialMembers: readonly UserId[],
  ) {}
}
