import type { ChatId, Sequence } from "../../runtime/ids.js";
import type { Caller } from "../auth/sessions.js";

/** Raises the caller's `last_acked_sequence` of a chat (never lowers it; above the tail → 422). */
export class UpdateDeliveryStateCommand {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly lastAckedSequence: Sequence,
  ) {}
}

export interface DeliveryStateResult {
  readonly lastAckedSequence: number;
  readonly updatedAt: number;
}
