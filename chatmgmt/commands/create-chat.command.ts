import type { UserId } from "../../runtime/ids.js";
import type { ChatRecord, ChatType } from "../../runtime/ports/chat-store.js";
import type { Caller } from "../auth/sessions.js";

/** Creates a direct chat (unique per pair) or a group (spec §2.1, §5). */
export class CreateChatCommand {
  constructor(
    readonly caller: Caller,
    readonly chatType: ChatType,
    /** Required for groups; ignored for direct chats. */
    readonly name: string | null,
    /** The other members (never the caller). */
    readonly memberIds: readonly UserId[],
    readonly idempotencyKey?: string,
  ) {}
}

export interface CreateChatResult {
  readonly chat: ChatRecord;
  /** 201 when this request created the chat, 200 for an existing direct chat (or its replay). */
  readonly status: 200 | 201;
  /** True for an idempotent replay or an existing direct chat (`X-Idempotent-Replay`). */
  readonly replay: boolean;
}
