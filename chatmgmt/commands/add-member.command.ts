import type { ChatId, UserId } from "../../runtime/ids.js";
import type { MembershipRecord } from "../../runtime/ports/chat-store.js";
import type { Caller } from "../auth/sessions.js";

/** Adds a user to a group (owner/admin; only the owner adds admins). */
export class AddMemberCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly userId: UserId,
    readonly role: "member" | "admin",
    readonly idempotencyKey?: string,
  ) {}
}

export interface AddMemberResult {
  readonly membership: MembershipRecord;
  readonly addedBy: UserId;
  readonly memberCount: number;
  readonly replay: boolean;
}
