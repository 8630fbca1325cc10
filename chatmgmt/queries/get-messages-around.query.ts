import type { ChatId } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { Caller } from "../auth/sessions.js";

/** Messages around a sequence: up to `context` before and after it, ascending (spec §2). */
export class GetMessagesAroundQuery {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly sequence: number,
    readonly context: number,
  ) {}
}

export interface MessagesAround {
  readonly targetSequence: number;
  readonly messages: StoredMessage[];
  readonly senderNames: ReadonlyMap<string, string | null>;
  readonly hasMoreBefore: boolean;
  readonly hasMoreAfter: boolean;
}
