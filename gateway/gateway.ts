import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Tracer } from "@opentelemetry/api";
import { WebSocketServer } from "ws";
import { SharedSnapshots } from "../actors/connection/connection-driver.js";
import type { Clock, TimerHandle } from "../runtime/clock.js";
import type { GatewayApi } from "../runtime/gateway-api.js";
import { NO_TRUSTED_PROXIES, type TrustedProxies } from "../runtime/http/client-address.js";
import type { ConnectionId, IdFactory, UserId } from "../runtime/ids.js";
import type { IngestApi } from "../runtime/ingest-api.js";
import type { Logger } from "../runtime/logger.js";
import { type GatewayRecorder, NO_GATEWAY_METRICS } from "../runtime/metrics/recorders.js";
import type { ConnectionRegistry } from "../runtime/ports/routing.js";
import { BreakingIngest } from "./circuit-breaker.js";
import { Connection, type ConnectionOptions } from "./connection.js";
import { ConnectionCaps } from "./connection-caps.js";
import { ConnectionTable } from "./connection-table.js";
import { createDeliverer } from "./deliver.js";
import { DuplicateEviction, type GatewayPeers } from "./duplicate-eviction.js";
import { HandshakeRejection, refuse, versionOf } from "./handshake.js";
import type { ConnectionInspector } from "./inspected-driver.js";
import type { JwtKeySource } from "./jwt-keys.js";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "./limits.js";
import { RoutingRefresher } from "./routing-refresher.js";
import { type SessionCheck, SessionLiveness } from "./session-liveness.js";
import { TimerQueue } from "./timer-queue.js";
import { tracedSends } from "./traced-sends.js";
import { GatewayTyping, type TypingDeps } from "./typing.js";
import { type Admission, UpgradeAdmission } from "./upgrade-admission.js";

/**
 * The connection plane of one process: WebSocket upgrades at `/v{n}/ws` become connections (admission in
 * upgrade-admission.ts), held in a table that pushes (deliver.ts) and routing refreshes read, until each
 * closes or the gateway drains.
 */
export interface GatewayDeps {
  /** This gateway's name in the routing entries (the node id). */
  readonly gatewayId: string;
  readonly limits?: Partial<GatewayLimits>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly ids: IdFactory;
  /** The durability plane: in-process service (embedded) or the routed gRPC client (cluster). */
  readonly ingest: IngestApi;
  readonly connections: ConnectionRegistry;
  /** Chat management's public keys (see gateway/jwt-keys.ts). */
  readonly keys: JwtKeySource;
  /**
   * Other gateways by node id (runtime/gateway-directory.ts): an older connection of the same (user, device)
   * held by another gateway is closed there with `duplicate_connection`, through its GatewayApi. Absent (one
   * gateway, tests): such a connection is only logged and lives on until its client goes.
   */
  readonly peers?: GatewayPeers;
  /** Spans of sends (`gateway.receive_message`) and pushes (`gateway.receive_delivery`); default: none. */
  readonly tracer?: Tracer;
  /** Told about every connection's lifecycle machine (the inspector). */
  readonly inspect?: ConnectionInspector;
  /** What the connection plane records (runtime/metrics); absent: nothing is recorded. */
  readonly metrics?: GatewayRecorder;
  /**
   * Whether a token's session (`sid`) still exists; a deleted one is refused with 401 `token_revoked`.
   * Absent (gateway tests with their own keys): a valid signature is enough.
   */
  readonly sessions?: SessionCheck;
  /** Proxies whose `X-Forwarded-For` names the client for the per-address cap; default: none. */
  readonly trustedProxies?: TrustedProxies;
  /**
   * Typing indicators (typing-relay.ts). Absent (suites of other concerns): typing frames are dropped
   * silently, as the protocol allows.
   */
  readonly typing?: TypingDeps;
}

export interface Gateway {
  /** Serves WebSocket upgrades at `/v1/ws` (other `/v{n}/ws` answer `unsupported_version`). */
  attach(server: Server): void;
  /** What fanout and chat management call (also served over gRPC by runtime/grpc/gateway-server.ts). */
  readonly api: GatewayApi;
  connectionCount(): number;
  /**
   * For the process's health check (spec §2 "Shutdown": fail health checks while draining; §3: a gateway
   * whose routing is unreachable refuses connections and reports unhealthy).
   */
  health(): { readonly healthy: boolean; readonly draining: boolean; readonly routingReachable: boolean };
  /** The live connection objects (inspection, tests). */
  connectionsOf(userId: UserId): readonly Connection[];
  /**
   * Graceful stop (spec §2 "Shutdown"): refuse new upgrades, tell every connection `server_shutdown`, remove
   * their routing entries, wait for their close up to `graceMs`, then terminate the rest.
   */
  drain(graceMs: number): Promise<void>;
}

export function createGateway(deps: GatewayDeps): Gateway {
  return new GatewayServer(deps);
}

/** Revoked sessions are remembered an hour: the longest an access token lives (D11). */
const REVOKED_SESSION_TTL_MS = 60 * 60_000;
/** Sessions whose liveness a gateway remembers at most. */
const MAX_REMEMBERED_SESSIONS = 100_000;

class GatewayServer implements Gateway {
  readonly api: GatewayApi;
  private readonly limits: GatewayLimits;
  private readonly logger: Logger;
  private readonly wss: WebSocketServer;
  private readonly table = new ConnectionTable();
  private readonly refresher: RoutingRefresher;
  private readonly admission: UpgradeAdmission;
  private readonly eviction: DuplicateEviction;
  private draining = false;
  private drained: Promise<void> | undefined;
  private onEmpty: (() => boolean) | undefined;
  private readonly servers = new Set<Server>();
  private readonly shared: ConnectionOptions;
  private readonly metrics: GatewayRecorder;
  private readonly caps: ConnectionCaps;
  private readonly timers: TimerQueue;
  private readonly typing: GatewayTyping | undefined;

  constructor(private readonly deps: GatewayDeps) {
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...deps.limits };
    this.metrics = deps.metrics ?? NO_GATEWAY_METRICS;
    this.caps = new ConnectionCaps(this.limits, this.metrics);
    this.logger = deps.logger.child({ component: "gateway" });
    // Frames above maxFrameBytes get INVALID_MESSAGE from the frame parser; ws itself only stops the absurd
    // (then closes 1009), so an oversized frame is answered rather than silently killing the connection.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(this.limits.maxFrameBytes * 4, 1024 * 1024),
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.timers = new TimerQueue(deps.clock);
    this.typing =
      deps.typing === undefined
        ? undefined
        : new GatewayTyping(deps.typing, {
            gatewayId: deps.gatewayId,
            timers: this.timers,
            expiryMs: this.limits.typingExpiryMs,
            metrics: this.metrics,
            logger: this.logger,
          });
    this.shared = this.connectionOptions();
    this.refresher = new RoutingRefresher({
      clock: deps.clock,
      registry: deps.connections,
      gatewayId: deps.gatewayId,
      refreshMs: this.limits.routingRefreshMs,
      ttlMs: this.limits.routingTtlMs,
      logger: this.logger,
      entries: (now) => this.table.all().flatMap((c) => (c.isOpen ? [c.entry(now)] : [])),
    });
    const sessions = this.sessionLiveness();
    this.admission = new UpgradeAdmission({
      clock: deps.clock,
      limits: this.limits,
      keys: deps.keys,
      caps: this.caps,
      registry: deps.connections,
      refresher: this.refresher,
      sessions,
      trustedProxies: deps.trustedProxies ?? NO_TRUSTED_PROXIES,
      metrics: this.metrics,
      logger: this.logger,
      isDraining: () => this.draining,
      connectionsOf: (userId) => this.table.ofUser(userId),
    });
    this.eviction = new DuplicateEviction({
      gatewayId: deps.gatewayId,
      logger: this.logger,
      local: (connectionId) => this.table.get(connectionId),
      ...(deps.peers === undefined ? {} : { peers: deps.peers }),
    });
    this.api = createDeliverer({
      clock: deps.clock,
      onSessionRevoked: (sessionId) => sessions?.revoked(sessionId),
      ...(deps.tracer === undefined ? {} : { tracer: deps.tracer }),
      connectionsOf: (userId) => this.table.ofUser(userId),
      metrics: this.metrics,
    });
  }

  attach(server: Server): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? "/", "http://gateway.invalid");
      const version = versionOf(url.pathname);
      // Other upgrade endpoints of the process (if any) answer their own paths.
      if (version === undefined) return;
      void this.upgrade(request, socket, head, url, version);
    });
    this.refresher.start();
    this.typing?.start();
  }

  connectionCount(): number {
    return this.table.size;
  }

  health() {
    const routingReachable = this.refresher.isHealthy;
    return { healthy: !this.draining && routingReachable, draining: this.draining, routingReachable };
  }

  connectionsOf(userId: UserId): readonly Connection[] {
    return [...this.table.ofUser(userId)];
  }

  drain(graceMs: number): Promise<void> {
    this.drained ??= this.drainAll(graceMs);
    return this.drained;
  }

  /** What every connection shares; the connections' lifecycle timers run on one timer of the injected clock. */
  private connectionOptions(): ConnectionOptions {
    const { deps, limits, logger, metrics } = this;
    const ingest = new BreakingIngest(deps.ingest, {
      clock: deps.clock,
      failureThreshold: limits.breakerFailureThreshold,
      windowMs: limits.breakerWindowMs,
      openMs: limits.breakerOpenMs,
      onStateChange: (state) => logger.warn({ breaker: state }, "ingest circuit breaker changed state"),
    });
    return {
      gatewayId: deps.gatewayId,
      clock: this.timers,
      limits,
      ingest: deps.tracer === undefined ? ingest : tracedSends(ingest, deps.tracer),
      logger,
      hooks: {
        onClosing: (closing) => this.unregister(closing),
        onReleased: (released) => this.forget(released),
      },
      snapshots: new SharedSnapshots({
        idleTimeoutMs: limits.idleTimeoutMs,
        slowConsumerGraceMs: limits.slowConsumerGraceMs,
        closeTimeoutMs: limits.closeTimeoutMs,
      }),
      metrics,
      ...(this.typing === undefined ? {} : { typing: this.typing.relay }),
      ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    };
  }

  private sessionLiveness(): SessionLiveness | undefined {
    const { sessions, clock } = this.deps;
    if (sessions === undefined) return undefined;
    return new SessionLiveness({
      check: sessions,
      clock,
      liveTtlMs: this.limits.sessionCheckTtlMs,
      revokedTtlMs: REVOKED_SESSION_TTL_MS,
      maxEntries: MAX_REMEMBERED_SESSIONS,
    });
  }

  private async drainAll(graceMs: number): Promise<void> {
    this.draining = true;
    this.refresher.stop();
    for (const connection of this.table.all()) connection.close("server_shutdown");
    const { clock } = this.deps;
    await new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const check = () => {
        if (this.table.size > 0) return false;
        if (timer !== undefined) clock.clearTimeout(timer);
        resolve();
        return true;
      };
      if (check()) return;
      this.onEmpty = check;
      timer = clock.setTimeout(() => {
        this.logger.warn({ remaining: this.table.size }, "drain grace over; terminating connections");
        for (const connection of this.table.all()) connection.kill();
        resolve();
      }, graceMs);
    });
    this.onEmpty = undefined;
    await this.typing?.stop();
    this.wss.close();
  }

  private async upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    version: number,
  ): Promise<void> {
    const connection = new Connection(this.deps.ids.connection(), this.shared);
    let gone = false;
    const onGone = () => {
      gone = true;
    };
    socket.once("close", onGone);
    socket.once("error", onGone);
    let admitted: Admission;
    try {
      admitted = await this.admission.admit(request, url, version, connection);
    } catch (error) {
      connection.reject();
      this.metrics.handshake(error instanceof HandshakeRejection ? error.error : "service_unavailable");
      if (error instanceof HandshakeRejection) return refuse(socket, error);
      this.logger.error({ err: error }, "upgrade failed");
      return refuse(
        socket,
        new HandshakeRejection(503, "service_unavailable", "the gateway could not connect you"),
      );
    } finally {
      socket.off("close", onGone);
      socket.off("error", onGone);
    }
    const { principal, duplicates, ticket } = admitted;
    if (gone || this.draining) {
      ticket.settle();
      connection.reject();
      this.unregisterEntry(connection.id, principal.userId);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.table.add(connection, principal.userId);
      ticket.established(connection);
      connection.establish(ws, principal);
      this.metrics.handshake("accepted");
      this.eviction.evict(duplicates);
    });
    // The callback ran (the connection now counts as live) or ws destroyed the socket: either way done.
    ticket.settle();
  }

  private unregister(connection: Connection): void {
    const principal = connection.principal;
    if (principal === undefined || connection.routingReleased) return;
    connection.routingReleased = true;
    this.unregisterEntry(connection.id, principal.userId);
  }

  private unregisterEntry(connectionId: ConnectionId, userId: UserId): void {
    this.deps.connections
      .unregister({ connectionId, userId, gatewayId: this.deps.gatewayId }, this.deps.clock.now())
      .catch((error: unknown) =>
        // The entry expires on its own within the TTL (D6); nothing else depends on this call.
        this.logger.warn({ err: error, connection_id: connectionId }, "routing unregister failed"),
      );
  }

  private forget(connection: Connection): void {
    if (!this.table.remove(connection)) return;
    this.caps.released(connection);
    this.typing?.relay.connectionGone(connection.id);
    // A client that closed first never passed through `closing`: its entry goes now.
    this.unregister(connection);
    this.onEmpty?.();
  }
}
