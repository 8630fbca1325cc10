import { AppError } from "../../runtime/errors.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import type { RecentSend, RecentSends } from "./recent-sends.js";
import type { PersistEnvelope } from "./sequencer-protocol.js";
import type { WriteMemory } from "./write-memory.js";

/** Step 1's partition of a run of sends. */
export interface CollectedSends {
  /** The first send of each client_message_id that memory does not answer. */
  readonly fresh: PersistEnvelope[];
  /** Later sends of a client_message_id already in the run: they follow the first. */
  readonly repeats: PersistEnvelope[];
}

/**
 * The in-memory side of dedup (D16 rule 5): a client_message_id is known when it is in the blocks above the
 * watermark or in the window of recent sends, and a known send is answered with the stored message. Such an
 * answer also nudges the outbox: a retry of a stored, unpublished message triggers its publication (D4).
 */
export class SendDedup {
  constructor(
    private readonly memory: WriteMemory,
    private readonly recent: RecentSends,
    private readonly nudgeOutbox: () => void,
  ) {}

  /** What memory knows of a client_message_id: the blocks above the watermark, then the recent window. */
  known(clientMessageId: string): StoredMessage | RecentSend | undefined {
    return this.memory.get(clientMessageId) ?? this.recent.get(clientMessageId);
  }

  remember(message: StoredMessage): void {
    this.recent.remember(message);
  }

  answerStored(envelope: PersistEnvelope, stored: StoredMessage | RecentSend): void {
    envelope.resolve({
      messageId: stored.messageId,
      sequence: stored.sequence,
      createdAt: stored.createdAt,
      deduplicated: true,
    });
    this.nudgeOutbox();
  }

  /** Step 1: answers what memory knows, and keeps a batch from repeating a client_message_id (rule 5). */
  collect(sends: readonly PersistEnvelope[]): CollectedSends {
    const fresh: PersistEnvelope[] = [];
    const firstOfId = new Set<string>();
    const repeats: PersistEnvelope[] = [];
    for (const envelope of sends) {
      const { clientMessageId } = envelope.message.request;
      const known = this.known(clientMessageId);
      if (known !== undefined) this.answerStored(envelope, known);
      else if (firstOfId.has(clientMessageId)) repeats.push(envelope);
      else {
        firstOfId.add(clientMessageId);
        fresh.push(envelope);
      }
    }
    return { fresh, repeats };
  }

  /** Rule 5: memory is checked again when the batch is sealed; returns the sends it still does not know. */
  seal(sends: readonly PersistEnvelope[]): PersistEnvelope[] {
    return sends.filter((envelope) => {
      const known = this.known(envelope.message.request.clientMessageId);
      if (known !== undefined) this.answerStored(envelope, known);
      return known === undefined;
    });
  }

  /** After the first send of each id is settled: a repeat gets its answer, or fails when the first did. */
  settleRepeats(repeats: readonly PersistEnvelope[]): void {
    for (const repeat of repeats) {
      const known = this.known(repeat.message.request.clientMessageId);
      if (known !== undefined) this.answerStored(repeat, known);
      else
        repeat.reject(
          new AppError("SERVICE_UNAVAILABLE", "the first send of this client_message_id failed; retry"),
        );
    }
  }
}
