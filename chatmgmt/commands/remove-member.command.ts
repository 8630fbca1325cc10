import type { ChatId, UserId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Removes another member from a group (owner: anyone but self; admin: plain members only). */
export class RemoveMemberCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly userId: UserId,
  ) {}
}
