import type { ChatId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** The caller leaves a group (the owner cannot: ownership transfer is out of scope). */
export class LeaveChatCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
  ) {}
}
