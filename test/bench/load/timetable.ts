import { wallNow } from "./stats.js";

/**
 * Calls `fire(i)` for i = 0 .. rate*duration-1 at start + i/rate (wall clock), never waiting for an earlier
 * call to finish: a fixed timetable, so a slow system does not slow the offered load down. Resolves after
 * the last call has been made, with how many calls left more than 10 ms late.
 */
export async function onTimetable(
  ratePerSecond: number,
  durationMs: number,
  fire: (index: number) => void,
): Promise<{ calls: number; late: number; startedAt: number }> {
  const intervalMs = 1000 / ratePerSecond;
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const start = wallNow() + 10;
  let next = 0;
  let late = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = wallNow();
      while (next < total && start + next * intervalMs <= now) {
        if (now - (start + next * intervalMs) > 10) late++;
        fire(next++);
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(5, start + next * intervalMs - wallNow())));
      else resolve();
    };
    setTimeout(tick, 10);
  });
  return { calls: total, late, startedAt: start };
}
