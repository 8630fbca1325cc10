import type { Clock, TimerHandle } from "../runtime/clock.js";
import { AppError } from "../runtime/errors.js";
import type { EphemeralRouter } from "../runtime/gateway-directory.js";
import type { ChatId, ConnectionId, UserId } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { GatewayRecorder, TypingCause } from "../runtime/metrics/recorders.js";
import type { ChatMembers } from "./chat-members.js";

/** The connection a typing frame came on, as the relay sees it. */
export interface TypingSource {
  readonly id: ConnectionId;
  sendError(error: AppError, requestId: undefined): void;
}

/** What the frame dispatch hands typing frames to (after the rate limit). */
export interface TypingFrames {
  start(source: TypingSource, userId: UserId, chatId: ChatId): void;
  stop(source: TypingSource, userId: UserId, chatId: ChatId): void;
}

export interface TypingRelayOptions {
  /** The gateway's timer queue: one timer per typing (chat, user), on the injected clock. */
  readonly clock: Clock;
  readonly expiryMs: number;
  readonly members: ChatMembers;
  /** Where indicators go: every connection of the recipients, on whichever gateway holds it. */
  readonly router: EphemeralRouter;
  readonly metrics: Pick<GatewayRecorder, "typingForwarded" | "typingDropped">;
  readonly logger: Logger;
}

/**
 * Indicators on their way at once, over all chats: beyond it new ones are dropped (`overloaded`), so a slow
 * routing store or peer cannot grow the gateway's memory. Typing is worth nothing late.
 */
const MAX_IN_FLIGHT = 1_000;

interface Typing {
  readonly chatId: ChatId;
  readonly userId: UserId;
  /** The connection of the last start: its close ends the indicator. */
  connectionId: ConnectionId;
  timer: TimerHandle;
}

/**
 * Typing indicators of this gateway's users (protocol §5 `typing_start`/`typing_stop` → `typing_indicator`,
 * §11: expires 10 s after the last start). Never stored and never on the event log: each indicator goes from
 * here to the chat's other members' connections through the EphemeralRouter (routing entries, then one
 * PushEphemeral per gateway, in-process for this one).
 *
 * - Only members: the sender must be in the chat's member list (ChatMembers); a non-member's start is
 *   answered NOT_A_MEMBER (NOT_FOUND for a chat that does not exist), as a send or sync would be, so the client
 *   drops the chat (protocol §6), and nothing is forwarded.
 * - Recipients are the other members: no device of the sender, this connection's or another, gets it.
 * - One timer per typing (chat, user), restarted by each start, cleared by a stop; when it fires, or when
 *   the connection of the last start closes, the recipients get `is_typing: false`. A stop with nothing
 *   started (already expired, or refused) is dropped.
 * - The indicators of one (chat, user) leave in order (each waits for the one before), so a quick stop
 *   never overtakes its start. Everything here is asynchronous and detached from the frame's connection:
 *   nothing on the message path waits for it.
 */
export class TypingRelay implements TypingFrames {
  private readonly typing = new Map<string, Typing>();
  private readonly byConnection = new Map<ConnectionId, Set<string>>();
  private readonly queues = new Map<string, Promise<void>>();
  private inFlight = 0;

  constructor(private readonly options: TypingRelayOptions) {}

  /** Typing (chat, user) pairs whose indicator is on (inspection, tests). */
  get active(): number {
    return this.typing.size;
  }

  start(source: TypingSource, userId: UserId, chatId: ChatId): void {
    const key = `${chatId}/${userId}`;
    const { clock, expiryMs } = this.options;
    const timer = clock.setTimeout(() => this.end(key, "expired"), expiryMs);
    const entry = this.typing.get(key);
    if (entry === undefined) {
      this.typing.set(key, { chatId, userId, connectionId: source.id, timer });
    } else {
      clock.clearTimeout(entry.timer);
      this.unindex(entry.connectionId, key);
      entry.connectionId = source.id;
      entry.timer = timer;
    }
    this.index(source.id, key);
    this.forward(key, chatId, userId, "start", source);
  }

  stop(_source: TypingSource, userId: UserId, chatId: ChatId): void {
    const key = `${chatId}/${userId}`;
    if (!this.typing.has(key)) {
      this.options.metrics.typingDropped("not_typing");
      return;
    }
    this.end(key, "stop");
  }

  /** The connection closed: the indicators it started end now. */
  connectionGone(connectionId: ConnectionId): void {
    const keys = this.byConnection.get(connectionId);
    if (keys === undefined) return;
    for (const key of [...keys]) this.end(key, "closed");
  }

  /** Drops every indicator without telling anyone (the gateway stops; its timers go with it). */
  close(): void {
    for (const entry of this.typing.values()) this.options.clock.clearTimeout(entry.timer);
    this.typing.clear();
    this.byConnection.clear();
  }

  private end(key: string, cause: Exclude<TypingCause, "start">): void {
    const entry = this.forget(key);
    if (entry !== undefined) this.forward(key, entry.chatId, entry.userId, cause, undefined);
  }

  private forget(key: string): Typing | undefined {
    const entry = this.typing.get(key);
    if (entry === undefined) return undefined;
    this.options.clock.clearTimeout(entry.timer);
    this.typing.delete(key);
    this.unindex(entry.connectionId, key);
    return entry;
  }

  /** Queues an indicator behind the ones of the same (chat, user) still on their way. */
  private forward(
    key: string,
    chatId: ChatId,
    userId: UserId,
    cause: TypingCause,
    source: TypingSource | undefined,
  ): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.options.metrics.typingDropped("overloaded");
      return;
    }
    this.inFlight++;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.send(key, chatId, userId, cause, source))
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, chat_id: chatId }, "typing indicator failed"),
      )
      .finally(() => {
        this.inFlight--;
        if (this.queues.get(key) === next) this.queues.delete(key);
      });
    this.queues.set(key, next);
  }

  private async send(
    key: string,
    chatId: ChatId,
    userId: UserId,
    cause: TypingCause,
    source: TypingSource | undefined,
  ): Promise<void> {
    const { members, router, metrics } = this.options;
    let answer: readonly UserId[] | AppError;
    try {
      answer = await members.membersFor(chatId, userId);
    } catch (error) {
      metrics.typingDropped("members_unavailable");
      this.options.logger.debug({ err: error, chat_id: chatId }, "members unreadable: typing dropped");
      return;
    }
    if (answer instanceof AppError) {
      metrics.typingDropped("not_a_member");
      if (source === undefined) return;
      // The refused start leaves nothing behind: no timer, no `is_typing: false` later.
      this.forget(key);
      source.sendError(answer, undefined);
      return;
    }
    const recipients = answer.filter((member) => member !== userId);
    let failedGateways: number;
    try {
      ({ failedGateways } = await router.pushEphemeral(recipients, {
        type: "typing_indicator",
        payload: { chat_id: chatId, user_id: userId, is_typing: cause === "start" },
      }));
    } catch (error) {
      metrics.typingDropped("routing_unavailable");
      this.options.logger.debug({ err: error, chat_id: chatId }, "routing unreadable: typing dropped");
      return;
    }
    metrics.typingForwarded(cause);
    for (let i = 0; i < failedGateways; i++) metrics.typingDropped("gateway_unreachable");
  }

  private index(connectionId: ConnectionId, key: string): void {
    let keys = this.byConnection.get(connectionId);
    if (keys === undefined) {
      keys = new Set();
      this.byConnection.set(connectionId, keys);
    }
    keys.add(key);
  }

  private unindex(connectionId: ConnectionId, key: string): void {
    const keys = this.byConnection.get(connectionId);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.byConnection.delete(connectionId);
  }
}
