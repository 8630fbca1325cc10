import type { ChatId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Members of a chat, for a member. */
export class ListMembersQuery {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
  ) {}
}
