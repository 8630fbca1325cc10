import { type Link, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { Clock, TimerHandle } from "../../runtime/clock.js";
import type { Delivery } from "../../runtime/gateway-api.js";
import type { Logger } from "../../runtime/logger.js";
import { contextOf, traceparentOfSpan } from "../../runtime/tracing/propagation.js";
import { failSpan } from "../../runtime/tracing/span-outcome.js";
import type { ResolvedGateway } from "./live-gateways.js";

export interface PushCounters {
  /** Deliver calls made. */
  readonly calls: number;
  /** Calls that failed (gateway unreachable, an error answer, or given up when the worker was killed). */
  readonly failedCalls: number;
  /** Calls that outlived `deliverTimeoutMs`. */
  readonly timedOutCalls: number;
  /** Sums of the gateways' DeliverResults. */
  readonly delivered: number;
  readonly noConnection: number;
  readonly dropped: number;
}

export interface GatewayPusherOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly deliverTimeoutMs: number;
  readonly maxDeliveriesPerCall: number;
  /** One `fanout.deliver_batch` span per Deliver call. */
  readonly tracer: Tracer;
}

/**
 * Sends deliveries to gateways: one batched Deliver per gateway (split into calls of at most
 * `maxDeliveriesPerCall`, sent one after another so a gateway sees them in order), every gateway in parallel,
 * each call bounded by a timeout on the injected clock. Never retries and never throws (D7: pushes are best
 * effort, sync heals). `abandon` gives up every call and pause in flight at once (the worker was killed).
 */
export class GatewayPusher {
  private readonly pending = new Set<() => void>();
  private abandoned = false;
  private readonly counts = {
    calls: 0,
    failedCalls: 0,
    timedOutCalls: 0,
    delivered: 0,
    noConnection: 0,
    dropped: 0,
  };

  constructor(private readonly options: GatewayPusherOptions) {}

  get isAbandoned(): boolean {
    return this.abandoned;
  }

  counters(): PushCounters {
    return { ...this.counts };
  }

  abandon(): void {
    this.abandoned = true;
    for (const release of [...this.pending]) release();
  }

  async push(perGateway: ReadonlyMap<string, { gateway: ResolvedGateway; deliveries: readonly Delivery[] }>) {
    await Promise.all(
      [...perGateway.values()].map(async ({ gateway, deliveries }) => {
        for (let start = 0; start < deliveries.length; start += this.options.maxDeliveriesPerCall) {
          if (this.abandoned) return;
          await this.call(gateway, deliveries.slice(start, start + this.options.maxDeliveriesPerCall));
        }
      }),
    );
  }

  /** Waits on the injected clock (pacing); ends early when the pusher is abandoned. */
  pause(delayMs: number): Promise<void> {
    if (this.abandoned) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const release = () => {
        this.options.clock.clearTimeout(timer);
        this.pending.delete(release);
        resolve();
      };
      const timer: TimerHandle = this.options.clock.setTimeout(release, delayMs);
      this.pending.add(release);
    });
  }

  private call(gateway: ResolvedGateway, deliveries: readonly Delivery[]): Promise<void> {
    this.counts.calls++;
    const span = this.batchSpan(gateway, deliveries);
    const traceparent = traceparentOfSpan(span);
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (outcome: "ok" | "failed" | "timed_out") => {
        if (settled) return;
        settled = true;
        if (outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        span.end();
        this.options.clock.clearTimeout(timer);
        this.pending.delete(abandon);
        if (outcome === "failed") this.counts.failedCalls++;
        if (outcome === "timed_out") this.counts.timedOutCalls++;
        resolve();
      };
      const abandon = () => finish("failed");
      this.pending.add(abandon);
      const timer = this.options.clock.setTimeout(() => {
        this.options.logger.warn(
          { gateway_id: gateway.node.nodeId, deliveries: deliveries.length },
          "Deliver timed out; skipped (sync heals)",
        );
        finish("timed_out");
      }, this.options.deliverTimeoutMs);
      gateway.api.deliver(deliveries, traceparent === undefined ? {} : { traceparent }).then(
        (result) => {
          if (settled) return;
          span.setAttributes({ delivered: result.delivered, no_connection: result.noConnection });
          this.counts.delivered += result.delivered;
          this.counts.noConnection += result.noConnection;
          this.counts.dropped += result.dropped;
          finish("ok");
        },
        (error: unknown) => {
          if (!settled) {
            failSpan(span, error);
            this.options.logger.warn(
              { err: error, gateway_id: gateway.node.nodeId },
              "Deliver failed; skipped (sync heals)",
            );
          }
          finish("failed");
        },
      );
    });
  }

  /**
   * A call carries deliveries of several messages, each with its trace: the span continues the first one's
   * and links the others (spec §3 wants one trace across the async hop; a batch can only be a child once).
   */
  private batchSpan(gateway: ResolvedGateway, deliveries: readonly Delivery[]) {
    const parents = [...new Set(deliveries.flatMap((delivery) => delivery.traceparent ?? []))];
    const [first, ...others] = parents;
    const links: Link[] = others.flatMap((traceparent) => {
      const context = trace.getSpanContext(contextOf(traceparent));
      return context === undefined ? [] : [{ context }];
    });
    return this.options.tracer.startSpan(
      "fanout.deliver_batch",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          gateway_id: gateway.node.nodeId,
          recipient_count: new Set(deliveries.map((delivery) => delivery.userId)).size,
          delivery_count: deliveries.length,
        },
        links,
      },
      contextOf(first),
    );
  }
}
