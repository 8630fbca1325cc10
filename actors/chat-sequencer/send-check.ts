import { AppError } from "../../runtime/errors.js";
import type { ChatId } from "../../runtime/ids.js";
import type { IdempotencyRecord, MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import type { IndexReader } from "./index-reader.js";
import type { MembershipCheck } from "./membership-check.js";
import type { SendDedup } from "./send-dedup.js";
import type { PersistEnvelope } from "./sequencer-protocol.js";
import type { WriteMemory } from "./write-memory.js";

/**
 * Step 2 of the write cycle (D16): the senders' memberships and the index records of the client_message_ids
 * memory does not know, read concurrently (both strongly consistent, rule 4). A record counts only when the
 * message at its sequence carries its client_message_id: a claim of the per-message format may point at a
 * sequence another message took.
 */
export class SendCheck {
  constructor(
    private readonly chatId: ChatId,
    private readonly membership: MembershipCheck,
    private readonly indexReader: IndexReader,
    private readonly store: Pick<MessageStore, "getMessage">,
    private readonly memory: WriteMemory,
    private readonly dedup: SendDedup,
  ) {}

  /** Answers or refuses what is not new; returns the sends that are. */
  async fresh(sends: readonly PersistEnvelope[]): Promise<PersistEnvelope[]> {
    if (sends.length === 0) return [];
    const read = await this.read(sends);
    if (read === undefined) return [];
    const fresh: PersistEnvelope[] = [];
    for (const [index, envelope] of sends.entries()) {
      if (!read.members.has(envelope)) continue;
      const record = read.records[index];
      if (record === undefined) fresh.push(envelope);
      else if (await this.settleIndexed(envelope, record)) fresh.push(envelope);
    }
    this.memory.prune();
    return this.dedup.seal(fresh);
  }

  /** Memberships and index records at once; a storage failure refuses every send (undefined). */
  private async read(sends: readonly PersistEnvelope[]): Promise<
    | {
        readonly members: ReadonlySet<PersistEnvelope>;
        readonly records: readonly (IdempotencyRecord | undefined)[];
      }
    | undefined
  > {
    this.memory.lookupStarted();
    try {
      const [members, records] = await Promise.all([
        this.membership.authorize(sends),
        Promise.all(
          sends.map((envelope) =>
            this.indexReader.lookup(this.chatId, envelope.message.request.clientMessageId),
          ),
        ),
      ]);
      return { members: new Set(members), records };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      for (const envelope of sends) envelope.reject(error);
      return undefined;
    } finally {
      this.memory.lookupEnded();
    }
  }

  /** A send the index has a record of: answered when the record holds, else new (true). */
  private async settleIndexed(envelope: PersistEnvelope, record: IdempotencyRecord): Promise<boolean> {
    try {
      const stored = await this.verified(record);
      if (stored === undefined) return true;
      this.dedup.remember(stored);
      this.dedup.answerStored(envelope, stored);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      envelope.reject(error);
    }
    return false;
  }

  /** The stored message an index record points at, when it carries the record's client_message_id. */
  private async verified(record: IdempotencyRecord): Promise<StoredMessage | undefined> {
    const stored = await this.store.getMessage(this.chatId, record.sequence);
    return stored?.clientMessageId === record.clientMessageId ? stored : undefined;
  }
}
