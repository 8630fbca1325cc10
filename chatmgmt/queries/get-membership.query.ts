import type { ChatId, UserId } from "../../runtime/ids.js";

/** Whether a user is a member of a chat (ingest and fanout on a cache miss; strongly consistent). */
export class GetMembershipQuery {
  constructor(
    readonly chatId: ChatId,
    readonly userId: UserId,
  ) {}
}
