import type { ChatId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Renames a group (owner or admin). */
export class RenameChatCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly name: string,
  ) {}
}
