import { type Clock, isoTime } from "./clock.js";
import { sendJson } from "./http/json.js";
import { pathOf, type Route } from "./http/server.js";

/**
 * `GET /health`: the process answers, and each dependency answers a cheap call within a short timeout
 * (spec/planes-ops-security-testing.md §5). 200 `{status: "healthy", timestamp, ...}` when every dependency
 * is up, 503 `{status: "degraded", ...}` otherwise, so load balancers and orchestrators take the node out of
 * rotation. The body is not wrapped in the REST `{data}` envelope (spec/rest-data-auth-chats.md §2); the
 * fields after `status` and `timestamp` are the operator's detail.
 */
export interface DependencyCheck {
  /** Port name: `storage`, `event_log`, `routing`. */
  readonly name: string;
  /** Which adapter serves the port, e.g. `dynalite (embedded, ./data)`. */
  readonly adapter: string;
  readonly check: () => Promise<unknown>;
}

export interface HealthIdentity {
  readonly service: string;
  readonly version: string;
  readonly role: string;
  readonly nodeId: string;
  readonly startedAt: number;
}

export interface DependencyStatus {
  readonly adapter: string;
  readonly status: "up" | "down";
  readonly latency_ms: number;
  readonly error?: string;
}

export interface HealthReport {
  /** `healthy` (spec §2) when every dependency answered, else `degraded`. */
  readonly status: "healthy" | "degraded";
  /** When the checks ran, ISO-8601 UTC with ms, from the injected clock. */
  readonly timestamp: string;
  readonly service: string;
  readonly version: string;
  readonly role: string;
  readonly node_id: string;
  readonly uptime_s: number;
  readonly adapters: Record<string, DependencyStatus>;
}

async function probe(check: DependencyCheck, clock: Clock, timeoutMs: number): Promise<DependencyStatus> {
  const start = clock.now();
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { adapter: check.adapter, status: "up", latency_ms: clock.now() - start };
  } catch (error) {
    return {
      adapter: check.adapter,
      status: "down",
      latency_ms: clock.now() - start,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

async function checkHealth(
  identity: HealthIdentity,
  checks: readonly DependencyCheck[],
  clock: Clock,
  timeoutMs = 2_000,
): Promise<HealthReport> {
  const timestamp = isoTime(clock.now());
  const results = await Promise.all(checks.map((check) => probe(check, clock, timeoutMs)));
  const adapters = Object.fromEntries(checks.map((check, i) => [check.name, results[i] as DependencyStatus]));
  return {
    status: results.every((result) => result.status === "up") ? "healthy" : "degraded",
    timestamp,
    service: identity.service,
    version: identity.version,
    role: identity.role,
    node_id: identity.nodeId,
    uptime_s: Math.floor((clock.now() - identity.startedAt) / 1000),
    adapters,
  };
}

/**
 * `GET /health` of one listener. Both run the same checks and answer with the same status code, so a load
 * balancer and an operator see the same verdict; only the internal listener tells which adapters run where,
 * their latencies and errors, the version and the node. The public answer is spec §2's `{status, timestamp}`:
 * dependency names and error texts would tell an attacker what to aim at.
 */
export function healthRoute(
  identity: HealthIdentity,
  checks: readonly DependencyCheck[],
  clock: Clock,
  detail: "status" | "full",
): Route {
  return async (request, response, requestId) => {
    if (pathOf(request) !== "/health" || (request.method !== "GET" && request.method !== "HEAD"))
      return false;
    const report = await checkHealth(identity, checks, clock);
    const body = detail === "full" ? report : { status: report.status, timestamp: report.timestamp };
    sendJson(response, report.status === "healthy" ? 200 : 503, body, requestId);
    return true;
  };
}
