import type { ChatId } from "../../runtime/ids.js";

/**
 * A chat's top stored sequence (0 when empty), for an answer about a chat its caller was just authorized
 * for (created or renamed it); asks nothing of membership itself.
 */
export class GetCurrentSequenceQuery {
  constructor(readonly chatId: ChatId) {}
}
