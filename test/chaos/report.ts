import type { ChaosReport } from "./chaos.js";

/** The run as a table for the terminal. */
export function formatReport(report: ChaosReport): string {
  const rows: Array<[string, string]> = [
    ["seed", String(report.seed)],
    ["duration", `${(report.durationMs / 1000).toFixed(0)} s`],
    ["clients", String(report.clients)],
    ["chats", String(report.chats)],
    ["sent", String(report.sent)],
    ["acknowledged", String(report.acknowledged)],
    ["acknowledged per second", (report.acknowledged / (report.durationMs / 1000)).toFixed(1)],
    ["not acknowledged in time", String(report.unacknowledged)],
    ["delivered live", String(report.deliveredLive)],
    ["recovered by sync", String(report.recoveredBySync)],
    ["reconnects", String(report.reconnects)],
    ...Object.entries(report.faults).map(([kind, n]): [string, string] => {
      const missed = report.faultsNotInjected[kind as keyof ChaosReport["faults"]];
      return [`fault ${kind}`, missed > 0 ? `${n} (+${missed} not injected)` : String(n)];
    }),
    ["fencing conflicts (live second owner)", String(report.fencingConflicts)],
    [
      "settle window",
      `${(report.settle.waitedMs / 1000).toFixed(1)} s, ${report.settle.quiet ? "the log went quiet" : "ended by its bound while the log grew"}`,
    ],
    ["violations", String(report.violations)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  for (const violation of report.violationList.slice(0, 20)) {
    lines.push(`  ${violation.kind} ${violation.chatId}: ${violation.detail}`);
  }
  if (report.violationList.length > 20)
    lines.push(`  … ${report.violationList.length - 20} more in the JSON`);
  return lines.join("\n");
}

/** The JSON of `--out`: the fields the issue names first, then everything else. */
export function reportJson(report: ChaosReport): string {
  return JSON.stringify(
    {
      seed: report.seed,
      acknowledged: report.acknowledged,
      acknowledged_per_second: Number((report.acknowledged / (report.durationMs / 1000)).toFixed(1)),
      faults: report.faults,
      faults_not_injected: report.faultsNotInjected,
      fencing_conflicts: report.fencingConflicts,
      settle: { waited_ms: report.settle.waitedMs, quiet: report.settle.quiet },
      violations: report.violations,
      violation_list: report.violationList,
      duration_ms: report.durationMs,
      clients: report.clients,
      chats: report.chats,
      sent: report.sent,
      unacknowledged: report.unacknowledged,
      delivered_live: report.deliveredLive,
      recovered_by_sync: report.recoveredBySync,
      reconnects: report.reconnects,
      fault_log: report.faultLog,
    },
    null,
    2,
  );
}
