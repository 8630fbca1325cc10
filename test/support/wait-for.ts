/**
 * Waits for a condition with a deadline, for effects of real engines (a TTL in Redis, a consumer group
 * rebalance in Kafka). Timers of our own code are never waited for: tests advance the ManualClock instead.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
