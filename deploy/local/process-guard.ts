/**
 * Stops what a launcher started when the launcher itself is interrupted: SIGINT/SIGTERM/SIGHUP run the
 * async stop (engines shut down cleanly), and a last synchronous pass at `exit` signals any child pid still
 * alive, so an interrupted `npm test` leaves no engine running. A launcher whose parent dies without passing
 * the signal on (npm does not forward SIGTERM to its script) notices that it was re-parented and stops too.
 */
const ORPHAN_CHECK_MS = 500;

export interface GuardedProcess {
  /** A pid, or a negated pid to signal a whole process group. */
  readonly pid?: number;
}

export function guardProcesses(
  stop: () => Promise<void>,
  children: () => readonly GuardedProcess[],
  onSignal: (signal: NodeJS.Signals) => void = () => {},
): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    onSignal(signal);
    void stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  const lastResort = () => {
    for (const child of children()) {
      if (child.pid === undefined) continue;
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  process.on("SIGHUP", handler);
  process.on("exit", lastResort);
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid !== parent) handler("SIGHUP");
  }, ORPHAN_CHECK_MS);
  orphanWatch.unref();
  return () => {
    clearInterval(orphanWatch);
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
    process.off("SIGHUP", handler);
    process.off("exit", lastResort);
  };
}
