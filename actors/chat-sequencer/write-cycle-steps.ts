import { AppError } from "../../runtime/errors.js";
import type { BlockPutOutcome, StoredMessage } from "../../runtime/ports/message-store.js";
import type { ActivationMarker } from "./activation-marker.js";
import { type Draft, placeBlock, takeBlock } from "./block-drafts.js";
import { type ChatSequencerOptions, MAX_COMMIT_ROUNDS } from "./chat-sequencer-options.js";
import type { IndexWatermark } from "./index-watermark.js";
import type { Outbox } from "./outbox.js";
import type { SendDedup } from "./send-dedup.js";
import type { PersistEnvelope } from "./sequencer-protocol.js";
import type { WriteChain } from "./write-chain.js";
import type { WriteCycleState } from "./write-cycle.machine.js";
import { WriteCycleDriver } from "./write-cycle-driver.js";
import type { WriteMemory } from "./write-memory.js";

/** The parts of the sequencer the steps work on. */
export interface WriteCycleParts {
  readonly chain: WriteChain;
  readonly memory: WriteMemory;
  readonly dedup: SendDedup;
  readonly marker: ActivationMarker;
  readonly indexing: IndexWatermark;
  readonly outbox: Outbox;
}

type StepOptions = Pick<
  ChatSequencerOptions,
  | "chatId"
  | "messageStore"
  | "clock"
  | "ids"
  | "metrics"
  | "failpoints"
  | "blockMaxMessages"
  | "blockMaxBytes"
>;

/**
 * The work of each state of write-cycle.machine (steps 3-6 of D16): the driver names the state, these steps
 * perform it and report the outcome. The new sends go out as blocks at the tail, each one conditional put. A
 * put that is taken, or whose outcome is unknown, is followed by a reload of every block above the tail; the
 * sends found there (another owner's block, or this put that landed although the call failed) are answered
 * as stored (rule 6) and the others committed at the new tail.
 */
export class WriteCycleSteps {
  /** The sends of the batch being committed, in arrival order. */
  private queue: Draft[] = [];
  /** The storage error that ended the last put or reload, for the machine's refusal. */
  private lastError: AppError | undefined;
  private readonly cycle = new WriteCycleDriver(
    {
      refuseFull: () =>
        this.refuseQueue(new AppError("SERVICE_UNAVAILABLE", "the chat's write path is full; retry")),
      refuseContended: () =>
        this.refuseQueue(
          new AppError("SERVICE_UNAVAILABLE", "the chat is contended; retry", {
            details: { chat_id: this.options.chatId },
          }),
        ),
      refuseStorageError: () =>
        this.refuseQueue(this.lastError ?? new AppError("SERVICE_UNAVAILABLE", "storage failed; retry")),
    },
    MAX_COMMIT_ROUNDS,
  );

  constructor(
    private readonly options: StepOptions,
    private readonly parts: WriteCycleParts,
  ) {}

  get state(): WriteCycleState {
    return this.cycle.state;
  }

  /** Sends memory does not answer arrived: the machine moves to checking them. */
  collected(sends: number): void {
    this.cycle.send({ type: "BATCH", sends });
  }

  /** The checked sends that are new become the batch; the machine drives it until it is collecting again. */
  async commit(checked: readonly PersistEnvelope[]): Promise<void> {
    this.queue = checked.map((envelope) => ({ envelope, messageId: this.options.ids.message() }));
    this.cycle.send({ type: "CHECKED", fresh: checked.length });
    for (;;) {
      const state = this.cycle.state;
      if (state === "committing") await this.commitBlock();
      else if (state === "reloading") await this.reloadBatch();
      else return;
    }
  }

  private async commitBlock(): Promise<void> {
    const { chain, memory } = this.parts;
    if (memory.isFull(this.queue.length)) {
      this.cycle.send({ type: "FULL" });
      return;
    }
    if (chain.stale) {
      this.cycle.send({ type: "STALE" });
      return;
    }
    const block = takeBlock(this.queue, this.options);
    const messages = placeBlock(this.options.chatId, block, chain.tail, this.options.clock.now());
    const outcome = await this.put(messages);
    if (outcome !== "written") return;
    this.options.failpoints.hit("after-message-write");
    this.cycle.send({ type: "PUT_WRITTEN" });
    this.acknowledge(block, messages);
    this.cycle.send({ type: "ACKED" });
    this.options.failpoints.hit("after-ack-before-publication");
    this.parts.indexing.schedule();
    this.cycle.send({ type: "INDEX_QUEUED" });
    this.publish(block, messages);
    this.queue = this.queue.slice(block.length);
    this.cycle.send({ type: "PUBLISH_QUEUED", left: this.queue.length });
  }

  /** Step 3: one conditional put at the tail; a taken or failed put leaves the chain stale for a reload. */
  private async put(messages: readonly StoredMessage[]): Promise<BlockPutOutcome | "failed"> {
    await this.parts.marker.keep();
    let outcome: BlockPutOutcome;
    try {
      outcome = await this.options.messageStore.appendBlock(this.options.chatId, messages);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      this.lastError = error;
      this.parts.chain.markStale();
      this.cycle.send({ type: "PUT_FAILED" });
      return "failed";
    }
    if (outcome === "taken") {
      this.options.metrics?.sequenceConflict();
      this.parts.chain.markStale();
      this.cycle.send({ type: "PUT_TAKEN" });
    }
    return outcome;
  }

  private async reloadBatch(): Promise<void> {
    let read: Map<string, StoredMessage>;
    try {
      read = await this.parts.chain.reload();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      this.lastError = error;
      this.cycle.send({ type: "RELOAD_FAILED" });
      return;
    }
    // Rule 6: matched against every block the reload read, not only what memory keeps: the watermark this
    // sequencer learned may already lie above some of them, and this batch's lookups predate their records.
    this.queue = this.queue.filter((draft) => {
      const { clientMessageId } = draft.envelope.message.request;
      const stored = read.get(clientMessageId) ?? this.parts.memory.get(clientMessageId);
      if (stored !== undefined) this.parts.dedup.answerStored(draft.envelope, stored);
      return stored === undefined;
    });
    this.cycle.send({ type: "RELOADED", left: this.queue.length });
  }

  /** Step 4 for a stored block: memory and tail, then every message acknowledged (D1). */
  private acknowledge(block: readonly Draft[], messages: readonly StoredMessage[]): void {
    this.parts.chain.extendTo((messages.at(-1) as StoredMessage).sequence);
    this.parts.memory.hold(messages);
    for (const [index, draft] of block.entries()) {
      const message = messages[index] as StoredMessage;
      this.parts.dedup.remember(message);
      this.options.metrics?.messageWritten();
      draft.envelope.resolve({
        messageId: message.messageId,
        sequence: message.sequence,
        createdAt: message.createdAt,
        deduplicated: false,
      });
    }
  }

  /** Step 6: the block's messages into the ordered outbox, with what their events carry. */
  private publish(block: readonly Draft[], messages: readonly StoredMessage[]): void {
    for (const [index, draft] of block.entries()) {
      const { traceId, traceparent, senderConnectionId } = draft.envelope.message.request;
      this.parts.outbox.append(messages[index] as StoredMessage, {
        ...(traceId === undefined ? {} : { traceId }),
        ...(traceparent === undefined ? {} : { traceparent }),
        ...(senderConnectionId === undefined ? {} : { senderConnectionId }),
      });
    }
  }

  /** The machine's refusals: what is left of the batch fails, and the client retries. */
  private refuseQueue(error: AppError): void {
    for (const draft of this.queue.splice(0)) draft.envelope.reject(error);
  }
}
