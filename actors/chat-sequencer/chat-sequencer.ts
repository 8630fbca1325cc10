import type { Tracer } from "@opentelemetry/api";
import type { ActorInstance, Envelope } from "../../runtime/actor-host.js";
import type { Clock } from "../../runtime/clock.js";
import { AppError } from "../../runtime/errors.js";
import {
  type ChatId,
  type IdFactory,
  type MessageId,
  type Sequence,
  toSequence,
  type UserId,
} from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import { SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT } from "../../runtime/ingest-api.js";
import type { Logger } from "../../runtime/logger.js";
import type { DurabilityRecorder } from "../../runtime/metrics/recorders.js";
import type { ActivationStore } from "../../runtime/ports/activation-store.js";
import type { ChatStore } from "../../runtime/ports/chat-store.js";
import type { EventLog } from "../../runtime/ports/event-log.js";
import type { IdempotencyRecord, MessageStore, StoredMessage } from "../../runtime/ports/message-store.js";
import type { Failpoints } from "./failpoints.js";
import type { MembershipReader } from "./membership-reader.js";
import { Outbox } from "./outbox.js";
import { RecentSends } from "./recent-sends.js";

/**
 * The single writer of one chat (D2). Its mailbox serialises the chat's sends; it keeps the tail and the
 * recent client_message_ids in memory, and DynamoDB's conditional writes stay the authority:
 *
 * 1. claim `(chat_id, client_message_id) -> (sequence, message_id)` with attribute_not_exists: a retry (or a
 *    twin on another owner) finds the claim instead and continues it;
 * 2. write the message at that sequence with attribute_not_exists: a conflict means another owner holds the
 *    sequence, so the tail is reloaded and the claim moved (compare-and-set) to the next free sequence;
 * 3. acknowledge; 4. publish through the ordered outbox (D4).
 *
 * A sequence is only ever chosen as `tail + 1` where `tail` is known to be written, and messages are never
 * deleted, so stored sequences have no gaps: nothing can become visible above an unresolved sequence (D3),
 * even with two owners at once.
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
type SequencerEnvelope = Envelope<SequencerMessage, SequencerReply>;
type PersistEnvelope = SequencerEnvelope & { readonly message: { kind: "persist"; request: PersistRequest } };

export interface ChatSequencerOptions {
  readonly chatId: ChatId;
  readonly messageStore: MessageStore;
  readonly chatStore: ChatStore;
  /** The node's coalesced, strongly consistent membership checks. */
  readonly memberships: MembershipReader;
  readonly eventLog: EventLog;
  readonly clock: Clock;
  readonly ids: IdFactory;
  readonly logger: Logger;
  readonly producerId: string;
  /** Spans of the outbox's publications (`durability.kafka_produce`). */
  readonly tracer: Tracer;
  /** Counts written messages and fencing conflicts; absent: nothing is recorded. */
  readonly metrics?: DurabilityRecorder;
  readonly failpoints: Failpoints;
  /** How long a client_message_id is remembered durably (protocol §13: 7 days). */
  readonly idempotencyTtlMs: number;
  /** client_message_ids kept in memory per chat. */
  readonly recentSendsLimit: number;
  readonly publishRetryMs: number;
  readonly countersFlushMs: number;
  readonly countersFlushMessages: number;
  /** Where this sequencer records that it is active (invariant 5 recovery); absent = not recorded. */
  readonly activations?: {
    readonly store: ActivationStore;
    readonly nodeId: string;
    readonly incarnation: string;
    /**
     * A marker older than this may be evicted by the chat's owner once it woke the chat; the sequencer
     * refreshes its marker before writing once half of it has passed (runtime/placement/activation-recovery).
     */
    readonly leaseMs: number;
  };
}

/** Rounds of "another owner took our sequence: reload and place again" before giving up for now. */
const MAX_PLACEMENT_ROUNDS = 8;

/** A send on its way to a sequence: fresh (no claim yet) or continuing the claim it found. */
interface Pending {
  readonly envelope: PersistEnvelope;
  claim?: IdempotencyRecord;
  /** True when the client_message_id had been received before (its claim already existed). */
  retried?: boolean;
}

interface Planned {
  readonly envelope: PersistEnvelope;
  readonly message: StoredMessage;
  /** True when the client_message_id had been received before (a claim existed). */
  readonly retried: boolean;
}

export class ChatSequencer implements ActorInstance<SequencerMessage, SequencerReply> {
  private tail = 0;
  /** When this sequencer last wrote its activation marker. */
  private markerHeldAt = 0;
  private readonly recent: RecentSends;
  private readonly outbox: Outbox;

  constructor(private readonly options: ChatSequencerOptions) {
    this.recent = new RecentSends(options.recentSendsLimit);
    this.outbox = new Outbox({
      chatId: options.chatId,
      store: options.messageStore,
      eventLog: options.eventLog,
      clock: options.clock,
      ids: options.ids,
      logger: options.logger,
      producerId: options.producerId,
      tracer: options.tracer,
      failpoints: options.failpoints,
      retryMs: options.publishRetryMs,
      countersFlushMs: options.countersFlushMs,
      countersFlushMessages: options.countersFlushMessages,
      maxBatch: 500,
    });
  }

  /** Finds the true tail (the counter is only a high-water mark) and resumes publication from the counter. */
  async activate(): Promise<void> {
    // The marker goes first: if this process dies after writing messages, someone finds the chat to recover.
    await this.holdMarker();
    const [counters, tail] = await Promise.all([
      this.options.messageStore.getCounters(this.options.chatId),
      this.readTail(),
    ]);
    this.tail = tail;
    this.outbox.start(counters?.publishedThrough ?? 0, tail);
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
            return this.sync(message.request);
          case "ack":
            return this.ack(message.request);
          case "wake":
            return { tail: this.tail };
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
    this.tail = Math.max(this.tail, await this.readTail());
    this.outbox.raiseTail(this.tail);
    const drained = await this.outbox.drain();
    const holder = this.options.activations;
    if (drained && holder !== undefined) {
      await holder.store.release(this.options.chatId, holder).catch((error: unknown) =>
        // A marker left behind only costs the owner a spare activation later.
        this.options.logger.warn(
          { err: error, chat_id: this.options.chatId },
          "releasing the activation failed",
        ),
      );
    }
    return drained;
  }

  dispose(): void {
    this.outbox.stop();
  }

  /** For inspection and tests: the tail and outbox position this instance believes in. */
  get position(): { readonly tail: number; readonly publishedThrough: number } {
    return { tail: this.tail, publishedThrough: this.outbox.position.publishedThrough };
  }

  /** Writes (or refreshes) this holder's own marker; another owner's marker of the chat is never touched. */
  private async holdMarker(): Promise<void> {
    const holder = this.options.activations;
    if (holder === undefined) return;
    const now = this.options.clock.now();
    await holder.store.hold({
      chatId: this.options.chatId,
      nodeId: holder.nodeId,
      incarnation: holder.incarnation,
      activatedAt: now,
    });
    this.markerHeldAt = now;
  }

  /**
   * Before a write: a marker older than half a lease may be evicted by an owner that decided this holder is
   * gone (it is cut off from the heartbeats, or was paused); refreshing it first keeps a trail in place for
   * every message this holder may fail to publish.
   */
  private async keepMarker(): Promise<void> {
    const holder = this.options.activations;
    if (holder === undefined) return;
    if (this.options.clock.now() - this.markerHeldAt >= holder.leaseMs / 2) await this.holdMarker();
  }

  private async answer(envelope: SequencerEnvelope, work: () => Promise<SequencerReply>): Promise<void> {
    try {
      envelope.resolve(await work());
    } catch (error) {
      if (error instanceof AppError) envelope.reject(error);
      else throw error;
    }
  }

  /** A run of consecutive sends: memory dedup, one membership read per sender, then each send placed. */
  private async persistAll(sends: readonly PersistEnvelope[]): Promise<void> {
    if (sends.length === 0) return;
    const fresh: PersistEnvelope[] = [];
    const firstOfId = new Map<string, PersistEnvelope>();
    const repeats: Array<[PersistEnvelope, PersistEnvelope]> = [];
    for (const envelope of sends) {
      const { clientMessageId } = envelope.message.request;
      const known = this.recent.get(clientMessageId);
      if (known !== undefined) {
        envelope.resolve({ ...known, deduplicated: true });
        this.outbox.nudge(); // D4: a retry of a stored, unpublished message triggers publication
        continue;
      }
      const first = firstOfId.get(clientMessageId);
      if (first !== undefined) repeats.push([envelope, first]);
      else {
        firstOfId.set(clientMessageId, envelope);
        fresh.push(envelope);
      }
    }
    const members = await this.authorize(fresh);
    await this.place(members.map((envelope) => ({ envelope })));
    // The same client_message_id twice in one run: the second gets the first's outcome.
    for (const [repeat] of repeats) {
      const known = this.recent.get(repeat.message.request.clientMessageId);
      if (known !== undefined) repeat.resolve({ ...known, deduplicated: true });
      else
        repeat.reject(new AppError("SERVICE_UNAVAILABLE", "the first send of this client_message_id failed"));
    }
  }

  /** Strongly consistent membership reads, one per distinct sender: a removal that returned is seen. */
  private async authorize(sends: readonly PersistEnvelope[]): Promise<PersistEnvelope[]> {
    const senders = [...new Set(sends.map((envelope) => envelope.message.request.senderId))];
    const allowed = new Set<UserId>();
    await Promise.all(
      senders.map(async (sender) => {
        if (await this.options.memberships.isMember(this.options.chatId, sender)) allowed.add(sender);
      }),
    );
    const refused = sends.filter((envelope) => !allowed.has(envelope.message.request.senderId));
    if (refused.length > 0) {
      const error = await this.notMemberError();
      for (const envelope of refused) envelope.reject(error);
    }
    return sends.filter((envelope) => allowed.has(envelope.message.request.senderId));
  }

  /** NOT_FOUND when the chat does not exist (or is not active yet), else NOT_A_MEMBER. */
  private async notMemberError(): Promise<AppError> {
    const chat = await this.options.chatStore.getChat(this.options.chatId, { consistent: true });
    if (chat === undefined || chat.status !== "active") {
      return new AppError("NOT_FOUND", "chat not found", { details: { chat_id: this.options.chatId } });
    }
    return new AppError("NOT_A_MEMBER", "not a member of this chat", {
      details: { chat_id: this.options.chatId },
    });
  }

  /**
   * Gives every send a sequence and writes it, one after another: a send is claimed at `tail + 1` only once
   * `tail` is written, so a claim left behind by a crash always points at most one past the stored tail,
   * where its own retry, or the next send, resolves it (a claim further ahead could wait for a sequence
   * that nobody ever writes). A conflict means another owner wrote above our tail: the tail is reloaded and
   * the send placed again.
   */
  private async place(sends: readonly Pending[]): Promise<void> {
    for (const send of sends) await this.placeOne(send);
  }

  private async placeOne(send: Pending): Promise<void> {
    let pending = send;
    for (let round = 1; round <= MAX_PLACEMENT_ROUNDS; round++) {
      const outcome = await this.plan(pending, toSequence(this.tail + 1));
      if (outcome === "done") return;
      if (outcome !== "reload") {
        this.options.failpoints.hit("after-claim");
        const leftover = await this.write(outcome);
        if (leftover === undefined) return;
        pending = leftover;
      }
      this.tail = Math.max(this.tail, await this.readTail());
      this.outbox.raiseTail(this.tail);
    }
    pending.envelope.reject(
      new AppError("SERVICE_UNAVAILABLE", "the chat is contended; retry", {
        details: { chat_id: this.options.chatId },
      }),
    );
  }

  /** Decides where one send goes: planned at `next`, already answered ("done"), or "reload" the tail first. */
  private async plan(pending: Pending, next: Sequence): Promise<Planned | "done" | "reload"> {
    const { request } = pending.envelope.message;
    let claim = pending.claim;
    if (claim === undefined) {
      const now = this.options.clock.now();
      const fresh: IdempotencyRecord = {
        chatId: this.options.chatId,
        clientMessageId: request.clientMessageId,
        messageId: this.options.ids.message(),
        sequence: next,
        createdAt: now,
        expiresAt: now + this.options.idempotencyTtlMs,
      };
      const [existing] = await this.options.messageStore.putIdempotencyRecords([fresh]);
      if (existing === undefined)
        return { envelope: pending.envelope, message: this.messageOf(request, fresh, now), retried: false };
      claim = existing;
      pending.retried = true;
    }
    // A claim from an earlier attempt (a crash, a lost reply, a twin on another owner): continue it.
    for (let attempt = 0; attempt < MAX_PLACEMENT_ROUNDS; attempt++) {
      if (claim.sequence === next) {
        return {
          envelope: pending.envelope,
          message: this.messageOf(request, claim, this.options.clock.now()),
          retried: pending.retried === true,
        };
      }
      // Above our tail the claimed sequence is unresolved: whoever holds the claim may still write this very
      // message there, so the claim must not move until that sequence is known to hold something.
      if (claim.sequence > this.tail) return "reload";
      const stored = await this.options.messageStore.getMessage(this.options.chatId, claim.sequence);
      if (stored === undefined) return "reload";
      if (stored.clientMessageId === request.clientMessageId) {
        this.recent.remember(stored);
        pending.envelope.resolve({
          messageId: stored.messageId,
          sequence: stored.sequence,
          createdAt: stored.createdAt,
          deduplicated: true,
        });
        this.outbox.nudge();
        return "done";
      }
      // The claimed sequence holds another message, so nobody can write this one there any more: moving the
      // claim (keeping its message_id) cannot create a second copy.
      const moved = await this.options.messageStore.moveIdempotencyRecord(
        this.options.chatId,
        request.clientMessageId,
        claim.sequence,
        next,
      );
      if (moved === undefined) {
        pending.envelope.reject(new AppError("SERVICE_UNAVAILABLE", "the send's claim lapsed; retry"));
        return "done";
      }
      claim = moved;
    }
    return "reload";
  }

  private messageOf(request: PersistRequest, claim: IdempotencyRecord, now: number): StoredMessage {
    return {
      chatId: this.options.chatId,
      sequence: claim.sequence,
      messageId: claim.messageId as MessageId,
      senderId: request.senderId,
      clientMessageId: request.clientMessageId,
      content: request.content,
      contentType: request.contentType,
      createdAt: now,
    };
  }

  /**
   * Writes one planned send and acknowledges it; returns it again, holding its claim, when another owner
   * already holds its sequence, so it is placed again.
   */
  private async write(planned: Planned): Promise<Pending | undefined> {
    const { envelope, retried } = planned;
    await this.keepMarker();
    const result = await this.options.messageStore.appendMessages(this.options.chatId, [planned.message]);
    this.options.failpoints.hit("after-message-write");
    if (result.written === 0) {
      this.options.metrics?.sequenceConflict();
      const { message } = planned;
      return {
        envelope,
        retried,
        claim: {
          chatId: this.options.chatId,
          clientMessageId: message.clientMessageId,
          messageId: message.messageId,
          sequence: message.sequence,
          createdAt: message.createdAt,
          expiresAt: message.createdAt + this.options.idempotencyTtlMs,
        },
      };
    }
    // A twin owner (or a lost reply's first attempt) stored this message_id already: what is stored is the
    // message, whatever this attempt carried, so that is what is acknowledged and published.
    const message = result.landedBefore?.[0] ?? planned.message;
    this.recent.remember(message);
    this.tail = message.sequence;
    this.options.metrics?.messageWritten();
    envelope.resolve({
      messageId: message.messageId,
      sequence: message.sequence,
      createdAt: message.createdAt,
      deduplicated: retried,
    });
    this.options.failpoints.hit("after-ack-before-publication");
    const { traceId, traceparent, senderConnectionId } = envelope.message.request;
    this.outbox.append(message, {
      ...(traceId === undefined ? {} : { traceId }),
      ...(traceparent === undefined ? {} : { traceparent }),
      ...(senderConnectionId === undefined ? {} : { senderConnectionId }),
    });
    return undefined;
  }

  private async readTail(): Promise<number> {
    const [last] = await this.options.messageStore.readMessages(this.options.chatId, {
      limit: 1,
      order: "desc",
    });
    return last?.sequence ?? 0;
  }

  private async requireMember(userId: UserId): Promise<void> {
    if (!(await this.options.memberships.isMember(this.options.chatId, userId)))
      throw await this.notMemberError();
  }

  /** Members only; ascending, bounded by the tail this sequencer knows to be written (D3). */
  private async sync(request: SyncRequest): Promise<SyncResult> {
    await this.requireMember(request.userId);
    const limit = Math.min(request.limit || SYNC_DEFAULT_LIMIT, SYNC_MAX_LIMIT);
    // Stored sequences have no gaps (see the class comment), so everything stored above `afterSequence` is
    // resolved and may be shown; no bound by the tail is needed, and one Query serves the page.
    const messages = await this.options.messageStore.readMessages(this.options.chatId, {
      after: request.afterSequence,
      limit: limit + 1,
      order: "asc",
    });
    const seen = messages.at(-1)?.sequence ?? 0;
    if (seen > this.tail) {
      // Another owner wrote these (a failover or handoff): learn them, and publish them too (duplicates are fine).
      this.tail = seen;
      this.outbox.raiseTail(seen);
    }
    const page = messages.slice(0, limit);
    const last = page.at(-1)?.sequence ?? request.afterSequence;
    return {
      messages: page,
      hasMore: messages.length > limit,
      nextSequence: last + 1,
      lastSequence: this.tail,
    };
  }

  /** D8: cumulative, monotonic; an ack above the visible tail is ignored. */
  private async ack(request: AckRequest): Promise<AckResult> {
    await this.requireMember(request.userId);
    const store = this.options.messageStore;
    if (request.sequence <= this.tail) {
      await store.advanceDeliveryState(request.userId, this.options.chatId, toSequence(request.sequence));
    } else {
      this.options.logger.debug(
        { chat_id: this.options.chatId, sequence: request.sequence, tail: this.tail },
        "ack above the tail ignored",
      );
    }
    const state = await store.getDeliveryState(request.userId, this.options.chatId);
    return { lastAckedSequence: state?.lastAckedSequence ?? 0 };
  }
}
