import { AppError } from "../../runtime/errors.js";
import type { ChatId } from "../../runtime/ids.js";
import {
  SYNC_DEFAULT_LIMIT,
  SYNC_MAX_LIMIT,
  type SyncRequest,
  type SyncResult,
} from "../../runtime/ingest-api.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { MembershipCheck } from "./membership-check.js";
import type { WriteChain } from "./write-chain.js";

/**
 * A sync, answered by the chat's sequencer: members only; ascending from `afterSequence`, with the tail this
 * sequencer knows to be written (D3). Stored sequences have no gaps (D16: blocks form one chain), so
 * everything stored above `afterSequence` is resolved and may be shown, and one Query serves the page.
 */
export async function syncPage(
  request: SyncRequest,
  chat: {
    readonly chatId: ChatId;
    readonly store: Pick<MessageStore, "readMessages">;
    readonly membership: MembershipCheck;
    readonly chain: WriteChain;
  },
): Promise<SyncResult> {
  await chat.membership.require(request.userId);
  const limit = Math.min(request.limit || SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT);
  const messages = await chat.store.readMessages(chat.chatId, {
    after: request.afterSequence,
    limit: limit + 1,
    order: "asc",
  });
  const seen = messages.at(-1)?.sequence ?? 0;
  if (seen > chat.chain.tail) {
    // Another owner wrote these (a failover or handoff). Rule 2: a read does not move the write tail by
    // itself; the blocks are read into memory (and published) before anything else is written.
    chat.chain.markStale();
    await chat.chain.reload().catch((error: unknown) => {
      if (!(error instanceof AppError)) throw error;
    });
  }
  const page = messages.slice(0, limit);
  const last = page.at(-1)?.sequence ?? request.afterSequence;
  return {
    messages: page,
    hasMore: messages.length > limit,
    nextSequence: last + 1,
    lastSequence: chat.chain.tail,
  };
}
