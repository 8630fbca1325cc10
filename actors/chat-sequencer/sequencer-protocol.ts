import type { Envelope } from "../../runtime/actor-host.js";
import type {
  AckRequest,
  AckResult,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";

/**
 * What a ChatSequencer's mailbox carries: the three IngestApi calls and `wake`, with their replies. Kept apart
 * from the sequencer so the steps of its write cycle can name a send's envelope without importing the actor.
 */
export type SequencerMessage =
  | { readonly kind: "persist"; readonly request: PersistRequest }
  | { readonly kind: "sync"; readonly request: SyncRequest }
  | { readonly kind: "ack"; readonly request: AckRequest }
  /** Activates the sequencer (which resumes its outbox) and answers at once: recovery of a quiet chat. */
  | { readonly kind: "wake" };
/** The answer to `wake`: the tail the activated sequencer found. */
export interface WakeResult {
  readonly tail: number;
}
export type SequencerReply = PersistResult | SyncResult | AckResult | WakeResult;
export type SequencerEnvelope = Envelope<SequencerMessage, SequencerReply>;
/** A send in the mailbox: the envelope every step of the write cycle answers. */
export type PersistEnvelope = SequencerEnvelope & {
  readonly message: { kind: "persist"; request: PersistRequest };
};
