import { type ChatId, toSequence } from "../../runtime/ids.js";
import type { AckRequest, AckResult } from "../../runtime/ingest-api.js";
import type { Logger } from "../../runtime/logger.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { DeliveryWrites } from "./delivery-writes.js";
import type { MembershipCheck } from "./membership-check.js";
import type { WriteChain } from "./write-chain.js";

/**
 * An ack, answered by the chat's sequencer (D8: cumulative, monotonic). Rule 9: an ack above the tail this
 * owner knows makes it reload first (another owner may have written it); one still above the stored tail is
 * ignored. The ack itself is written behind; the reply reports only what is stored.
 */
export async function ackThrough(
  request: AckRequest,
  chat: {
    readonly chatId: ChatId;
    readonly store: Pick<MessageStore, "getDeliveryState">;
    readonly membership: MembershipCheck;
    readonly chain: WriteChain;
    readonly deliveryWrites: DeliveryWrites;
    readonly logger: Logger;
  },
): Promise<AckResult> {
  await chat.membership.require(request.userId);
  const { chatId, chain, deliveryWrites: writes } = chat;
  if (request.sequence > chain.tail) await chain.reload();
  if (request.sequence <= chain.tail) {
    writes.record(request.userId, chatId, toSequence(request.sequence));
  } else {
    chat.logger.debug(
      { chat_id: chatId, sequence: request.sequence, tail: chain.tail },
      "ack above the tail ignored",
    );
  }
  let stored = writes.stored(request.userId, chatId);
  if (stored === undefined) {
    const state = await chat.store.getDeliveryState(request.userId, chatId);
    if (state !== undefined) writes.learnStored(request.userId, chatId, state.lastAckedSequence);
    stored = writes.stored(request.userId, chatId);
  }
  return { lastAckedSequence: stored ?? 0 };
}
