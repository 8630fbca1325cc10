import type { Clock } from "../runtime/clock.js";
import type { GatewayLimits } from "./limits.js";
import { TokenBucket, WindowCounter } from "./token-bucket.js";

/** Per-chat send buckets a connection keeps before it forgets the full ones (a full bucket says nothing). */
const MAX_CHAT_BUCKETS = 64;

/**
 * The per-connection limits of D9 and protocol §11: send, sync and ack rates, requests in flight, and the
 * abuse counters that close a connection (invalid frames, refused frames). It only decides; the frame
 * dispatch answers the client and closes. Made on a connection's first request, and every bucket and counter
 * inside on first use: most connections sit idle and only send heartbeats, which no limit here applies to.
 */
export class ConnectionLimiter {
  private inFlight = 0;
  private invalidFrames: WindowCounter | undefined;
  private refusedFrames: WindowCounter | undefined;
  private sendBucket: TokenBucket | undefined;
  private syncBucket: TokenBucket | undefined;
  private ackBucket: TokenBucket | undefined;
  private chatBuckets: Map<string, TokenBucket> | undefined;
  private typingBucket: TokenBucket | undefined;
  private typingChatBuckets: Map<string, TokenBucket> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly limits: GatewayLimits,
  ) {}

  /** Per-chat, then per-connection send limits: milliseconds to wait, or 0 when admitted. */
  sendWaitMs(chatId: string): number {
    const { limits, clock } = this;
    this.chatBuckets ??= new Map();
    const bucket = this.chatBucket(
      this.chatBuckets,
      chatId,
      limits.sendPerChatPerSecond,
      limits.sendPerChatBurst,
    );
    const chatWaitMs = bucket.take();
    if (chatWaitMs > 0) return chatWaitMs;
    this.sendBucket ??= new TokenBucket(
      clock,
      limits.sendPerConnectionPerSecond,
      limits.sendPerConnectionPerSecond,
    );
    return this.sendBucket.take();
  }

  /**
   * Whether a `typing_start` may go on: 1/s per chat (protocol §11, no burst: an indicator lasts 10 s), then
   * the connection's bucket over all chats. Refusals are silent and never count toward a close: clients that
   * send one per keystroke are common and cost nothing here.
   */
  takeTypingStart(chatId: string): boolean {
    const { limits, clock } = this;
    this.typingChatBuckets ??= new Map();
    const perChat = limits.typingStartPerChatPerSecond;
    if (this.chatBucket(this.typingChatBuckets, chatId, perChat, 1).take() > 0) return false;
    this.typingBucket ??= new TokenBucket(
      clock,
      limits.typingStartPerConnectionPerSecond,
      limits.typingStartPerConnectionBurst,
    );
    return this.typingBucket.take() === 0;
  }

  /** The sync limit: milliseconds to wait, or 0 when admitted. */
  syncWaitMs(): number {
    const { syncPerConnectionPerSecond } = this.limits;
    this.syncBucket ??= new TokenBucket(this.clock, syncPerConnectionPerSecond, syncPerConnectionPerSecond);
    return this.syncBucket.take();
  }

  /** Whether an ack may be forwarded: acks have a bucket of their own. */
  takeAck(): boolean {
    const { ackPerConnectionPerSecond, ackPerConnectionBurst } = this.limits;
    this.ackBucket ??= new TokenBucket(this.clock, ackPerConnectionPerSecond, ackPerConnectionBurst);
    return this.ackBucket.take() === 0;
  }

  /** A chat's bucket in `buckets`, made on first use. */
  private chatBucket(
    buckets: Map<string, TokenBucket>,
    chatId: string,
    ratePerSecond: number,
    burst: number,
  ): TokenBucket {
    let bucket = buckets.get(chatId);
    if (bucket === undefined) {
      // Full buckets are forgotten, so a client cycling through chat ids cannot grow this map without bound.
      if (buckets.size >= MAX_CHAT_BUCKETS) {
        for (const [id, candidate] of buckets) if (candidate.isFull()) buckets.delete(id);
      }
      bucket = new TokenBucket(this.clock, ratePerSecond, burst);
      buckets.set(chatId, bucket);
    }
    return bucket;
  }

  /** Whether the connection already has as many requests in flight as it may. */
  get atInFlightCap(): boolean {
    return this.inFlight >= this.limits.maxInFlightRequests;
  }

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
  }

  /** Counts an invalid frame; true once there were enough within the window to close with `protocol_error`. */
  invalidFrame(): boolean {
    const { abuseWindowMs, invalidFrameCloseThreshold } = this.limits;
    this.invalidFrames ??= new WindowCounter(this.clock, abuseWindowMs, invalidFrameCloseThreshold);
    return this.invalidFrames.record() >= invalidFrameCloseThreshold;
  }

  /** Counts a refused frame; true once there were enough within the window to close with `rate_limited`. */
  refused(): boolean {
    const { abuseWindowMs, rateLimitedCloseThreshold } = this.limits;
    this.refusedFrames ??= new WindowCounter(this.clock, abuseWindowMs, rateLimitedCloseThreshold);
    return this.refusedFrames.record() >= rateLimitedCloseThreshold;
  }
}
