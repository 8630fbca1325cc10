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
    ["not acknowledged in time", String(report.unacknowledged)],
    ["delivered live", String(report.deliveredLive)],
    ["recovered by sync", String(report.recoveredBySync)],
    ["reconnects", String(report.reconnects)],
    ...Object.entries(report.faults).map(([kind, n]): [string, string] => [`fault ${kind}`, String(n)]),
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
      faults: report.faults,
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
