import { isAppError } from "../../runtime/errors.js";
import type { UserId } from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import type { MessageStore } from "../../runtime/ports/message-store.js";
import type { SimOwner } from "./owner.js";

/**
 * The clients of a simulated chat: what they asked of which owner and what they were told, which is what the
 * invariants are checked against. A send is retried with the same client_message_id (by the world, through
 * any live owner) until one attempt is acknowledged; an attempt through an owner that crashed never answers,
 * as a client's request to a dead process times out.
 */

/** What one acknowledged answer said, for invariant 2. */
export interface Answer {
  readonly clientMessageId: string;
  readonly owner: string;
  readonly result: PersistResult;
}

export interface SyncSeen {
  readonly owner: string;
  readonly after: number;
  readonly result: SyncResult;
}

export interface AckSeen {
  readonly owner: string;
  readonly userId: UserId;
  readonly sequence: number;
  readonly result: AckResult;
  /** delivery_state as stored when the reply came. */
  readonly storedAtReply: number;
}

interface ClientSend {
  readonly request: PersistRequest;
  /** Owners through which an attempt has not been answered yet, once per attempt. */
  readonly inFlight: string[];
  acknowledged: boolean;
}

export class Clients {
  private readonly sends = new Map<string, ClientSend>();
  readonly answers: Answer[] = [];
  readonly syncs: SyncSeen[] = [];
  readonly acks: AckSeen[] = [];

  constructor(
    /** The shared store, read directly (not through an owner) to see what was stored when a reply came. */
    private readonly store: MessageStore,
    private readonly note: (line: string) => void,
    private readonly violation: (line: string) => void,
  ) {}

  /** The first request of every client_message_id sent so far. */
  get requests(): PersistRequest[] {
    return [...this.sends.values()].map((send) => send.request);
  }

  /** Sends no attempt of which was acknowledged and none of which can still answer. */
  retryable(isDead: (owner: string) => boolean): PersistRequest[] {
    return [...this.sends.values()]
      .filter((send) => !send.acknowledged && send.inFlight.every(isDead))
      .map((send) => send.request);
  }

  unacknowledged(): string[] {
    return [...this.sends.values()]
      .filter((send) => !send.acknowledged)
      .map(
        (send) => `${send.request.clientMessageId} (in flight through ${send.inFlight.join("+") || "none"})`,
      );
  }

  /** Highest sequence any answer named (what a client may sync or ack up to). */
  get highestAnswered(): number {
    return Math.max(0, ...this.answers.map((answer) => answer.result.sequence));
  }

  /** A send, its retry or a duplicate, through `owner`; the answer is recorded when it comes. */
  send(owner: SimOwner, request: PersistRequest, position: string): void {
    let send = this.sends.get(request.clientMessageId);
    if (send === undefined) {
      send = { request, inFlight: [], acknowledged: false };
      this.sends.set(request.clientMessageId, send);
    }
    const tracked = send;
    tracked.inFlight.push(owner.name);
    const answered = () => tracked.inFlight.splice(tracked.inFlight.indexOf(owner.name), 1);
    this.note(`send ${request.clientMessageId} via ${owner.name} [${position}]`);
    owner.persist(request).then(
      (result) => {
        answered();
        tracked.acknowledged = true;
        this.answers.push({ clientMessageId: request.clientMessageId, owner: owner.name, result });
        this.note(
          `answer ${request.clientMessageId} from ${owner.name}: seq ${result.sequence} ${result.messageId.slice(-6)}` +
            `${result.deduplicated ? " (deduplicated)" : ""}`,
        );
      },
      (error: unknown) => {
        answered();
        const code = isAppError(error) ? error.code : "not an AppError";
        this.note(`refused ${request.clientMessageId} from ${owner.name}: ${code} ${String(error)}`);
        // SERVICE_UNAVAILABLE is the write path's "retry" (storage failed, contended, full, restarted).
        if (code !== "SERVICE_UNAVAILABLE")
          this.violation(
            `send ${request.clientMessageId} through ${owner.name} failed with ${String(error)}`,
          );
      },
    );
  }

  sync(owner: SimOwner, request: SyncRequest, position: string): void {
    const after = request.afterSequence;
    this.note(`sync via ${owner.name} after ${after} limit ${request.limit} [${position}]`);
    owner.sync(request).then(
      (result) => {
        this.syncs.push({ owner: owner.name, after, result });
        const sequences = result.messages.map((message) => message.sequence);
        this.note(
          `synced via ${owner.name} after ${after}: [${sequences.join(",")}] last ${result.lastSequence}`,
        );
      },
      (error: unknown) => this.note(`sync via ${owner.name} refused: ${String(error)}`),
    );
  }

  ack(owner: SimOwner, request: AckRequest, position: string): void {
    const { userId, sequence, chatId } = request;
    this.note(`ack ${userId.slice(-4)} through ${sequence} via ${owner.name} [${position}]`);
    owner.ack(request).then(
      async (result) => {
        const storedAtReply = (await this.store.getDeliveryState(userId, chatId))?.lastAckedSequence ?? 0;
        this.acks.push({ owner: owner.name, userId, sequence, result, storedAtReply });
        this.note(`acked via ${owner.name}: reported ${result.lastAckedSequence}, stored ${storedAtReply}`);
      },
      (error: unknown) => this.note(`ack via ${owner.name} refused: ${String(error)}`),
    );
  }
}
