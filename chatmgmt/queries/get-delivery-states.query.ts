import type { ChatId } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** The caller's delivery state in some chats (absent = every chat, up to MAX_CHATS_PER_USER). */
export class GetDeliveryStatesQuery {
  constructor(
    readonly caller: Caller,
    readonly chatIds: readonly ChatId[] | undefined,
  ) {}
}

export interface DeliveryStateView {
  readonly chatId: ChatId;
  readonly lastAckedSequence: number;
  readonly currentSequence: number;
  readonly updatedAt: number | null;
}
