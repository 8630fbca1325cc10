import type { ChatId, UserId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Changes another member's role between member and admin (owner only). */
export class SetMemberRoleCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly userId: UserId,
    readonly role: "member" | "admin",
  ) {}
}
