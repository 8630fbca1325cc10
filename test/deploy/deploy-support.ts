import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OPTIONS } from "../../runtime/config.js";

/** Helpers shared by the deployment tests: files of the repository and the option names of runtime/config.ts. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), "utf8");

/** Every environment variable the platform reads: the only names deployment files may set on its processes. */
export const OPTION_ENV_NAMES: ReadonlySet<string> = new Set(Object.values(OPTIONS).map((spec) => spec.env));

/**
 * Variables of deploy/docker-entrypoint.sh itself, which it consumes before node starts: the signing key's PEM
 * (written to JWT_PRIVATE_KEY_FILE) and secrets in files (read into ADMIN_TOKEN and OTP_PEPPER).
 */
export const ENTRYPOINT_ENV: ReadonlySet<string> = new Set([
  "JWT_PRIVATE_KEY_PEM",
  "ADMIN_TOKEN_FILE",
  "OTP_PEPPER_FILE",
]);

/** The four roles of a cluster (ARCHITECTURE.md §2). */
export const CLUSTER_ROLES = ["gateway", "ingest", "fanout", "chatmgmt"] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

/** spec/planes-ops-security-testing.md §5: the gateway drains for up to 30 s on SIGTERM; hard kill at 35 s. */
export const GATEWAY_DRAIN_MS = 30_000;
export const HARD_KILL_S = 35;

/** Default of SHUTDOWN_GRACE_MS, read from the schema so that the tests follow it. */
export const DEFAULT_SHUTDOWN_GRACE_MS = OPTIONS.shutdownGraceMs.schema.parse(undefined);

/** Whether `command` runs here (e.g. `docker-compose version`); tests that need it skip with a message. */
export function hasCommand(command: string, args: readonly string[] = ["--version"]): boolean {
  const result = spawnSync(command, [...args], { encoding: "utf8", timeout: 20_000 });
  return result.error === undefined && result.status === 0;
}

/** `30s`, `1m30s`, `500ms` (Compose durations) in milliseconds. */
export function durationMs(text: string): number {
  let total = 0;
  let rest = text.trim();
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|us|h|m|s)/.exec(rest);
    if (match === null) throw new Error(`not a duration: ${text}`);
    total += Number(match[1]) * (units[match[2] ?? "s"] ?? 0);
    rest = rest.slice(match[0].length);
  }
  return total;
}
