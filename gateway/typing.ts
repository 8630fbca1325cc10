import type { Clock } from "../runtime/clock.js";
import type { EphemeralRouter } from "../runtime/gateway-directory.js";
import type { Logger } from "../runtime/logger.js";
import type { GatewayRecorder } from "../runtime/metrics/recorders.js";
import type { ChatStore } from "../runtime/ports/chat-store.js";
import type { EventLog, Subscription } from "../runtime/ports/event-log.js";
import { ChatMembers } from "./chat-members.js";
import { TypingRelay } from "./typing-relay.js";

/** What a gateway needs for typing indicators (GatewayDeps.typing). */
export interface TypingDeps {
  /** Chats' members: the durability plane's storage. */
  readonly chatStore: Pick<ChatStore, "listMembers">;
  /** Reaches recipients on every gateway (runtime/gateway-directory.ts), this one in-process. */
  readonly router: EphemeralRouter;
  /** Membership events that drop cached member lists; absent, the lists expire by their TTL only. */
  readonly eventLog?: EventLog;
}

export interface GatewayTypingOptions {
  readonly gatewayId: string;
  /** The gateway's timer queue. */
  readonly timers: Clock;
  readonly expiryMs: number;
  readonly metrics: GatewayRecorder;
  readonly logger: Logger;
}

/** A gateway's typing indicators: the relay, its member lists, and their subscription to membership events. */
export class GatewayTyping {
  readonly relay: TypingRelay;
  private readonly members: ChatMembers;
  private events: Promise<Subscription | undefined> | undefined;

  constructor(
    private readonly deps: TypingDeps,
    private readonly options: GatewayTypingOptions,
  ) {
    this.members = new ChatMembers({ chatStore: deps.chatStore, clock: options.timers });
    this.relay = new TypingRelay({
      clock: options.timers,
      expiryMs: options.expiryMs,
      members: this.members,
      router: deps.router,
      metrics: options.metrics,
      logger: options.logger,
    });
  }

  /** Follows membership events (once; a failure leaves the member lists their TTL only). */
  start(): void {
    const eventLog = this.deps.eventLog;
    if (eventLog === undefined || this.events !== undefined) return;
    const { gatewayId, logger } = this.options;
    this.events = this.members.follow(eventLog, gatewayId, logger).catch((error: unknown) => {
      logger.warn({ err: error }, "membership events unavailable: member lists expire by TTL only");
      return undefined;
    });
  }

  /** Drops every indicator's timer and leaves the membership events (the gateway has drained). */
  async stop(): Promise<void> {
    this.relay.close();
    const events = await this.events;
    await events
      ?.stop()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error }, "leaving membership events failed"),
      );
  }
}
