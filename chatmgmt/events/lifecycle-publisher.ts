import type { EventRecord } from "../../runtime/ports/event-log.js";
import type { ChatMgmtContext } from "../context.js";

/** Spec §5: three retries after the first attempt, then log and give up (never roll back the write). */
const RETRY_DELAYS_MS = [100, 500, 2000] as const;

/** A retry pause on the injected clock that `close()` cuts short. */
function pause(ctx: ChatMgmtContext, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      ctx.shutdown.wake.delete(done);
      ctx.clock.clearTimeout(timer);
      resolve();
    };
    const timer = ctx.clock.setTimeout(done, ms);
    ctx.shutdown.wake.add(done);
  });
}

/**
 * Publishes one lifecycle record after its database write has committed. Runs detached from the request
 * (the write already succeeded); `ctx.pending` lets `close()` wait for it. Records of one chat are chained,
 * so they reach the log in the order they were raised (ChatCreated before the chat's MembershipChanged).
 */
export function publishLifecycle(ctx: ChatMgmtContext, topic: string, record: EventRecord): void {
  const previous = ctx.publishChains.get(record.key) ?? Promise.resolve();
  const run: Promise<void> = previous.then(async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await ctx.eventLog.publish(topic, [record]);
        return;
      } catch (error) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined || ctx.shutdown.closing) {
          ctx.logger.error({ err: error, topic, key: record.key }, "lifecycle_event_publish_failed");
          return;
        }
        await pause(ctx, delay);
      }
    }
  });
  ctx.publishChains.set(record.key, run);
  ctx.pending.add(run);
  void run.finally(() => {
    ctx.pending.delete(run);
    if (ctx.publishChains.get(record.key) === run) ctx.publishChains.delete(record.key);
  });
}
