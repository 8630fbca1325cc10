import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * CPU time a server spent, read the same way whether it runs in the bench process (process.cpuUsage) or as a
 * child process (/proc/<pid>/stat, every thread of it), so per-push costs of two systems compare.
 */

/** Kernel clock ticks per second: the unit of /proc/<pid>/stat's times (100 on common Linux builds). */
const clockTicksPerSecond = (() => {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { stdio: ["ignore", "pipe", "ignore"] }));
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of this process so far. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** User + system CPU seconds of another process so far (Linux), at the kernel tick's resolution. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) of proc(5), counted from the state (field 3) at index 0.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat`);
  return ticks / clockTicksPerSecond;
}
