import { AppError } from "../../runtime/errors.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { MembershipReader } from "./membership-reader.js";
import type { PersistEnvelope } from "./sequencer-protocol.js";

/**
 * The sequencer's own membership check, behind the node's gate: strongly consistent reads (coalesced across
 * the node's chats), so a removal that returned is seen by every send, sync and ack that follows it.
 */
export class MembershipCheck {
  constructor(
    private readonly chatId: ChatId,
    private readonly memberships: MembershipReader,
    private readonly chatStore: Pick<ChatStore, "getChat">,
  ) {}

  /** One read per distinct sender; refuses the sends of non-members and returns the others. */
  async authorize(sends: readonly PersistEnvelope[]): Promise<PersistEnvelope[]> {
    const senders = [...new Set(sends.map((envelope) => envelope.message.request.senderId))];
    const allowed = new Set<UserId>();
    await Promise.all(
      senders.map(async (sender) => {
        if (await this.memberships.isMember(this.chatId, sender)) allowed.add(sender);
      }),
    );
    const refused = sends.filter((envelope) => !allowed.has(envelope.message.request.senderId));
    if (refused.length > 0) {
      const error = await this.notMemberError();
      for (const envelope of refused) envelope.reject(error);
    }
    return sends.filter((envelope) => allowed.has(envelope.message.request.senderId));
  }

  /** Throws NOT_FOUND or NOT_A_MEMBER unless `userId` is a member. */
  async require(userId: UserId): Promise<void> {
    if (!(await this.memberships.isMember(this.chatId, userId))) throw await this.notMemberError();
  }

  /** NOT_FOUND when the chat does not exist (or is not active yet), else NOT_A_MEMBER. */
  private async notMemberError(): Promise<AppError> {
    const chat = await this.chatStore.getChat(this.chatId, { consistent: true });
    if (chat === undefined || chat.status !== "active") {
      return new AppError("NOT_FOUND", "chat not found", { details: { chat_id: this.chatId } });
    }
    return new AppError("NOT_A_MEMBER", "not a member of this chat", {
      details: { chat_id: this.chatId },
    });
  }
}
