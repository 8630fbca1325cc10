import type { ChatId } from "../../runtime/ids.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { Caller } from "../auth/sessions.js";

/** One message of a chat, by `msg_` id or by sequence. */
export class GetMessageQuery {
  constructor(
    readonly caller: Caller,
    readonly chatId: ChatId,
    readonly ref: { readonly messageId: string } | { readonly sequence: number },
  ) {}
}

export interface SingleMessage {
  readonly message: StoredMessage;
  readonly senderName: string | null;
}
