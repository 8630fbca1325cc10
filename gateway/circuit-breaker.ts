import type { Clock } from "../runtime/clock.js";
import { AppError, toAppError } from "../runtime/errors.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../runtime/ingest-api.js";

export interface BreakerOptions {
  readonly clock: Pick<Clock, "now">;
  /** Failures within `windowMs` that open the breaker (ADR-009: 5 in 30 s). */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** Open this long, then one probe is let through (ADR-009: 30 s). */
  readonly openMs: number;
  readonly onStateChange?: (state: BreakerState) => void;
}

export type BreakerState = "closed" | "open" | "half_open";

/** Retry hint sent with a refusal while open (ADR-009: 10 s). */
const RETRY_AFTER_SECONDS = 10;

/**
 * The gateway's circuit breaker on the durability plane (spec/delivery-presence-kafka.md §2): while the
 * plane is unavailable, sends and syncs fail at once with SERVICE_UNAVAILABLE instead of each waiting for a
 * deadline. Only unavailability counts as a failure (SERVICE_UNAVAILABLE, INTERNAL_ERROR); a client's own
 * error (NOT_A_MEMBER, INVALID_MESSAGE...) proves the plane is up.
 */
export class BreakingIngest implements IngestApi {
  private state: BreakerState = "closed";
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly inner: IngestApi,
    private readonly options: BreakerOptions,
  ) {}

  get currentState(): BreakerState {
    return this.state;
  }

  persist(request: PersistRequest): Promise<PersistResult> {
    return this.guard(() => this.inner.persist(request));
  }

  sync(request: SyncRequest): Promise<SyncResult> {
    return this.guard(() => this.inner.sync(request));
  }

  ack(request: AckRequest): Promise<AckResult> {
    return this.guard(() => this.inner.ack(request));
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    const probe = this.admit();
    try {
      const result = await call();
      if (probe) this.move("closed");
      return result;
    } catch (error) {
      const appError = toAppError(error);
      const unavailable = appError.code === "SERVICE_UNAVAILABLE" || appError.code === "INTERNAL_ERROR";
      if (unavailable) this.recordFailure(probe);
      else if (probe) this.move("closed");
      throw appError;
    } finally {
      if (probe) this.probing = false;
    }
  }

  /** Throws while open; answers whether this call is the half-open probe. */
  private admit(): boolean {
    const now = this.options.clock.now();
    if (this.state === "open" && now - this.openedAt >= this.options.openMs) this.move("half_open");
    if (this.state === "closed") return false;
    if (this.state === "half_open" && !this.probing) {
      this.probing = true;
      return true;
    }
    throw new AppError("SERVICE_UNAVAILABLE", "the message service is unavailable; retry later", {
      details: { retry_after_seconds: RETRY_AFTER_SECONDS },
    });
  }

  private recordFailure(probe: boolean): void {
    const now = this.options.clock.now();
    if (probe) {
      this.open(now);
      return;
    }
    this.failures = this.failures.filter((at) => at > now - this.options.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.options.failureThreshold) this.open(now);
  }

  private open(now: number): void {
    this.openedAt = now;
    this.failures = [];
    this.move("open");
  }

  private move(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }
}
