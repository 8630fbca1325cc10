import { type ChatId, type MessageId, toSequence } from "../../runtime/ids.js";
import type { PersistRequest } from "../../runtime/ingest-api.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { PersistEnvelope } from "./sequencer-protocol.js";

/**
 * How a batch becomes blocks (D16): the front of the queue that fits the caps, placed at `tail + 1, …`. A
 * draft keeps its message id across conflicts, so a send committed after a reload is the same message.
 */
export interface Draft {
  readonly envelope: PersistEnvelope;
  readonly messageId: MessageId;
}

/** The caps of one block: messages, and bytes of content plus MESSAGE_OVERHEAD_BYTES per message. */
export interface BlockCaps {
  readonly blockMaxMessages: number;
  readonly blockMaxBytes: number;
}

/** What one message adds to a block beyond its content: ids, sender, times (a generous estimate). */
const MESSAGE_OVERHEAD_BYTES = 256;

const bytesOf = (request: PersistRequest): number =>
  Buffer.byteLength(request.content, "utf8") + MESSAGE_OVERHEAD_BYTES;

/** The front of the queue that fits one block (at least one send, so an oversized send still goes alone). */
export function takeBlock(queue: readonly Draft[], caps: BlockCaps): Draft[] {
  const block: Draft[] = [];
  let bytes = 0;
  for (const draft of queue) {
    const size = bytesOf(draft.envelope.message.request);
    if (block.length > 0 && (block.length >= caps.blockMaxMessages || bytes + size > caps.blockMaxBytes))
      break;
    block.push(draft);
    bytes += size;
  }
  return block;
}

/** The block's messages at `tail + 1, …`, all created at `createdAt`. */
export function placeBlock(
  chatId: ChatId,
  block: readonly Draft[],
  tail: number,
  createdAt: number,
): StoredMessage[] {
  return block.map(({ envelope, messageId }, index) => {
    const { request } = envelope.message;
    return {
      chatId,
      sequence: toSequence(tail + 1 + index),
      messageId,
      senderId: request.senderId,
      clientMessageId: request.clientMessageId,
      content: request.content,
      contentType: request.contentType,
      createdAt,
    };
  });
}
