import type { ChatId, UserId } from "../../runtime/ids.js";
import type { MemberRole } from "../../runtime/ports/chat-store.js";

export type MembershipChangeType = "added" | "removed" | "role_changed";

/** Raised after a membership write committed (spec §5 `MembershipChanged`). */
export class MembershipChangedEvent {
  constructor(
    readonly chatId: ChatId,
    readonly userId: UserId,
    readonly changeType: MembershipChangeType,
    readonly role: MemberRole,
    readonly changedBy: UserId,
    readonly memberCountAfter: number,
    readonly changedAt: number,
  ) {}
}
