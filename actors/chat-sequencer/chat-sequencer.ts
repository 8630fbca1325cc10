import type { ActorInstance } from "../../runtime/actor-host.js";
import { AppError } from "../../runtime/errors.js";
import { ackThrough } from "./ack-through.js";
import { ActivationMarker } from "./activation-marker.js";
import { type ChatSequencerOptions, MAX_COMMIT_ROUNDS } from "./chat-sequencer-options.js";
import { IndexWatermark } from "./index-watermark.js";
import { MembershipCheck } from "./membership-check.js";
import { Outbox } from "./outbox.js";
import { RecentSends } from "./recent-sends.js";
import { SendCheck } from "./send-check.js";
import { SendDedup } from "./send-dedup.js";
import type {
  PersistEnvelope,
  SequencerEnvelope,
  SequencerMessage,
  SequencerReply,
} from "./sequencer-protocol.js";
import { syncPage } from "./sync-page.js";
import { WriteChain } from "./write-chain.js";
import type { WriteCycleState } from "./write-cycle.machine.js";
import { WriteCycleSteps } from "./write-cycle-steps.js";
import { WriteMemory } from "./write-memory.js";

export type { ChatSequencerOptions } from "./chat-sequencer-options.js";
export type { SequencerMessage, SequencerReply, WakeResult } from "./sequencer-protocol.js";

/**
 * The single writer of one chat (D2, D16). Its mailbox serialises the chat's sends; while one write is in
 * flight the sends that arrive wait in the mailbox and form the next batch (no artificial wait: an idle chat
 * commits a batch of one at once). One write cycle, driven by write-cycle.machine:
 *
 * 1. collect the batch's sends; answer at once those whose client_message_id is in memory (the blocks above
 *    `indexed_through`, and a window of recent ones) — send-dedup.ts;
 * 2. check the rest: the senders' memberships and, for client_message_ids not in memory, the index
 *    (`idempotency_keys`), both strongly consistent and coalesced across the node's chats — send-check.ts;
 * 3. commit the new sends as blocks, each one conditional put at `tail + 1` (rule 1: the tail is only ever
 *    the last sequence of the greatest block as read). A conflict means another owner extended the chain:
 *    every block above the tail is read into memory (rule 2, write-chain.ts), the batch is matched against it
 *    by client_message_id (rule 6) and the rest is committed at the new tail — write-cycle-steps.ts;
 * 4. acknowledge every message of a stored block (D1); 5. write its index records behind the ack, batched
 *    across the node, then move `indexed_through` by compare-and-set (rule 3, index-watermark.ts); 6. publish
 *    through the ordered outbox (D4, outbox.ts).
 *
 * Blocks form a single chain with neither overlaps nor gaps, so nothing can become visible above an
 * unresolved sequence (D3), even with two owners at once.
 */
export class ChatSequencer implements ActorInstance<SequencerMessage, SequencerReply> {
  private readonly memory: WriteMemory;
  private readonly outbox: Outbox;
  private readonly marker: ActivationMarker;
  private readonly indexing: IndexWatermark;
  private readonly chain: WriteChain;
  private readonly dedup: SendDedup;
  private readonly membership: MembershipCheck;
  private readonly check: SendCheck;
  private readonly steps: WriteCycleSteps;

  constructor(private readonly options: ChatSequencerOptions) {
    const { chatId, messageStore, clock, logger } = options;
    this.memory = new WriteMemory(options.memoryLimit);
    this.outbox = new Outbox({
      chatId,
      store: messageStore,
      eventLog: options.eventLog,
      clock,
      ids: options.ids,
      logger,
      producerId: options.producerId,
      tracer: options.tracer,
      failpoints: options.failpoints,
      retryMs: options.publishRetryMs,
      countersFlushMs: options.countersFlushMs,
      countersFlushMessages: options.countersFlushMessages,
      maxBatch: 500,
    });
    this.marker = new ActivationMarker(chatId, options.activations, clock, logger);
    this.indexing = new IndexWatermark({
      ...options,
      memory: this.memory,
      store: messageStore,
      retryMs: options.publishRetryMs,
      maxRounds: MAX_COMMIT_ROUNDS,
      onCrash: () => this.dispose(),
    });
    this.chain = new WriteChain(chatId, messageStore, this.memory, logger, {
      tailRaised: (tail) => this.outbox.raiseTail(tail),
      blocksHeld: () => this.indexing.schedule(),
    });
    const recent = new RecentSends(options.recentSendsLimit);
    this.dedup = new SendDedup(this.memory, recent, () => this.outbox.nudge());
    this.membership = new MembershipCheck(chatId, options.memberships, options.chatStore);
    this.check = new SendCheck(
      chatId,
      this.membership,
      options.indexReader,
      messageStore,
      this.memory,
      this.dedup,
    );
    this.steps = new WriteCycleSteps(options, {
      chain: this.chain,
      memory: this.memory,
      dedup: this.dedup,
      marker: this.marker,
      indexing: this.indexing,
      outbox: this.outbox,
    });
  }

  /**
   * Reads the counters, then every block above `indexed_through` into memory (rule 2), which also finds the
   * tail; resumes publication from the counter and indexing of what was read.
   */
  async activate(): Promise<void> {
    // The marker is stored before any message write (if this process dies after writing messages, someone
    // finds the chat to recover); reads need not wait for it, so the counters are read meanwhile.
    const [, counters] = await Promise.all([
      this.marker.hold(),
      this.options.messageStore.getCounters(this.options.chatId),
    ]);
    const indexedThrough = counters?.indexedThrough ?? 0;
    this.memory.reset(indexedThrough);
    this.chain.startAt(indexedThrough);
    await this.chain.reload();
    this.outbox.start(counters?.publishedThrough ?? 0, this.chain.tail);
  }

  async receive(batch: readonly SequencerEnvelope[]): Promise<void> {
    let sends: PersistEnvelope[] = [];
    for (const envelope of batch) {
      const { message } = envelope;
      if (message.kind === "persist") {
        sends.push(envelope as PersistEnvelope);
        continue;
      }
      await this.persistAll(sends);
      sends = [];
      await this.answer(envelope, async () => {
        switch (message.kind) {
          case "sync":
            return syncPage(message.request, this.readContext());
          case "ack":
            return ackThrough(message.request, this.readContext());
          case "wake":
            return { tail: this.chain.tail };
        }
      });
    }
    await this.persistAll(sends);
  }

  /**
   * Publishes the outbox through the tail as stored now, not as this instance knew it: another owner may have
   * written above it and died before publishing (its marker may already be gone). Once all of that is
   * published, this holder's activation marker goes (nothing is left for it to recover).
   */
  async drain(): Promise<boolean> {
    await this.chain.reload();
    this.outbox.raiseTail(this.chain.tail);
    const drained = await this.outbox.drain();
    await this.indexing.flush();
    const { deliveryWrites, chatId } = this.options;
    if (await deliveryWrites.flushChat(chatId)) deliveryWrites.forgetChat(chatId);
    if (drained) await this.marker.release();
    return drained;
  }

  dispose(): void {
    this.outbox.stop();
    this.indexing.dispose();
  }

  /** For inspection and tests: the tail, outbox position and stored watermark this instance believes in. */
  get position(): {
    readonly tail: number;
    readonly publishedThrough: number;
    readonly indexedThrough: number;
    readonly held: number;
    readonly writeCycle: WriteCycleState;
  } {
    return {
      writeCycle: this.steps.state,
      tail: this.chain.tail,
      publishedThrough: this.outbox.position.publishedThrough,
      indexedThrough: this.memory.indexedThrough,
      held: this.memory.size,
    };
  }

  /** One write cycle over a run of consecutive sends (see the class comment). */
  private async persistAll(sends: readonly PersistEnvelope[]): Promise<void> {
    if (sends.length === 0) return;
    const { fresh, repeats } = this.dedup.collect(sends);
    try {
      if (fresh.length > 0) {
        this.steps.collected(fresh.length);
        const checked = await this.check.fresh(fresh);
        if (checked.length > 0) this.options.failpoints.hit("after-lookup");
        await this.steps.commit(checked);
      }
    } finally {
      this.dedup.settleRepeats(repeats);
    }
  }

  /** What sync and ack read and write through. */
  private readContext() {
    const { chatId, messageStore, deliveryWrites, logger } = this.options;
    return {
      chatId,
      store: messageStore,
      membership: this.membership,
      chain: this.chain,
      deliveryWrites,
      logger,
    };
  }

  private async answer(envelope: SequencerEnvelope, work: () => Promise<SequencerReply>): Promise<void> {
    try {
      envelope.resolve(await work());
    } catch (error) {
      if (error instanceof AppError) envelope.reject(error);
      else throw error;
    }
  }
}
