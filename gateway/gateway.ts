import type { IncomingMessage, Server } from "node:http";
import { STATUS_CODES } from "node:http";
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
import type { ConnectionEntry, ConnectionRegistry } from "../runtime/ports/routing.js";
import { BreakingIngest } from "./circuit-breaker.js";
import { clientAddressOf } from "./client-address.js";
import { Connection, type ConnectionInspector, type ConnectionOptions } from "./connection.js";
import { type CapTicket, ConnectionCaps } from "./connection-caps.js";
import { createDeliverer } from "./deliver.js";
import {
  checkVersion,
  credentialsOf,
  HandshakeRejection,
  type Principal,
  verifyAccessToken,
  versionOf,
} from "./handshake.js";
import type { JwtKeySource } from "./jwt-keys.js";
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits } from "./limits.js";
import { RoutingRefresher } from "./routing-refresher.js";
import { type SessionCheck, SessionLiveness } from "./session-liveness.js";
import { TimerQueue } from "./timer-queue.js";
import { TokenBucket } from "./token-bucket.js";
import { tracedSends } from "./traced-sends.js";

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
  readonly peers?: { gateway(nodeId: string): Promise<GatewayApi | undefined> };
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

class GatewayServer implements Gateway {
  readonly api: GatewayApi;
  private readonly limits: GatewayLimits;
  private readonly logger: Logger;
  private readonly ingest: BreakingIngest;
  private readonly wss: WebSocketServer;
  private readonly live = new Map<ConnectionId, Connection>();
  /** A user's connections here: the connection itself when it is the only one (the common case), else a set. */
  private readonly byUser = new Map<UserId, Connection | Set<Connection>>();
  private readonly refresher: RoutingRefresher;
  private draining = false;
  private drained: Promise<void> | undefined;
  private readonly servers = new Set<Server>();
  private readonly connectBuckets = new Map<UserId, TokenBucket>();
  private readonly snapshots: SharedSnapshots;
  /** The connections' lifecycle timers, on one timer of the injected clock. */
  private readonly timers: TimerQueue;
  private readonly shared: ConnectionOptions;
  private readonly metrics: GatewayRecorder;
  private readonly sessions: SessionLiveness | undefined;
  private readonly caps: ConnectionCaps;

  constructor(private readonly deps: GatewayDeps) {
    this.limits = { ...DEFAULT_GATEWAY_LIMITS, ...deps.limits };
    this.metrics = deps.metrics ?? NO_GATEWAY_METRICS;
    this.caps = new ConnectionCaps(this.limits, this.metrics);
    this.logger = deps.logger.child({ component: "gateway" });
    this.ingest = new BreakingIngest(deps.ingest, {
      clock: deps.clock,
      failureThreshold: this.limits.breakerFailureThreshold,
      windowMs: this.limits.breakerWindowMs,
      openMs: this.limits.breakerOpenMs,
      onStateChange: (state) => this.logger.warn({ breaker: state }, "ingest circuit breaker changed state"),
    });
    // Frames above maxFrameBytes get INVALID_MESSAGE from the frame parser; ws itself only stops the absurd
    // (then closes 1009), so an oversized frame is answered rather than silently killing the connection.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.max(this.limits.maxFrameBytes * 4, 1024 * 1024),
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.timers = new TimerQueue(deps.clock);
    this.snapshots = new SharedSnapshots({
      idleTimeoutMs: this.limits.idleTimeoutMs,
      slowConsumerGraceMs: this.limits.slowConsumerGraceMs,
      closeTimeoutMs: this.limits.closeTimeoutMs,
    });
    this.shared = {
      gatewayId: deps.gatewayId,
      clock: this.timers,
      limits: this.limits,
      ingest: deps.tracer === undefined ? this.ingest : tracedSends(this.ingest, deps.tracer),
      logger: this.logger,
      hooks: this.hooks,
      snapshots: this.snapshots,
      metrics: this.metrics,
      ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    };
    this.refresher = new RoutingRefresher({
      clock: deps.clock,
      registry: deps.connections,
      gatewayId: deps.gatewayId,
      refreshMs: this.limits.routingRefreshMs,
      ttlMs: this.limits.routingTtlMs,
      logger: this.logger,
      entries: (now) => [...this.live.values()].filter((c) => c.isOpen).map((c) => c.entry(now)),
    });
    this.sessions =
      deps.sessions === undefined
        ? undefined
        : new SessionLiveness({
            check: deps.sessions,
            clock: deps.clock,
            liveTtlMs: this.limits.sessionCheckTtlMs,
            revokedTtlMs: 60 * 60_000,
            maxEntries: 100_000,
          });
    this.api = createDeliverer({
      clock: deps.clock,
      onSessionRevoked: (sessionId) => this.sessions?.revoked(sessionId),
      ...(deps.tracer === undefined ? {} : { tracer: deps.tracer }),
      connectionsOf: (userId) => this.userConnections(userId),
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
  }

  connectionCount(): number {
    return this.live.size;
  }

  health() {
    const routingReachable = this.refresher.isHealthy;
    return { healthy: !this.draining && routingReachable, draining: this.draining, routingReachable };
  }

  connectionsOf(userId: UserId): readonly Connection[] {
    return [...this.userConnections(userId)];
  }

  drain(graceMs: number): Promise<void> {
    this.drained ??= this.drainAll(graceMs);
    return this.drained;
  }

  private async drainAll(graceMs: number): Promise<void> {
    this.draining = true;
    this.refresher.stop();
    for (const connection of [...this.live.values()]) connection.close("server_shutdown");
    const { clock } = this.deps;
    await new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const check = () => {
        if (this.live.size > 0) return false;
        if (timer !== undefined) clock.clearTimeout(timer);
        resolve();
        return true;
      };
      if (check()) return;
      this.onEmpty = check;
      timer = clock.setTimeout(() => {
        this.logger.warn({ remaining: this.live.size }, "drain grace over; terminating connections");
        for (const connection of [...this.live.values()]) connection.kill();
        resolve();
      }, graceMs);
    });
    this.onEmpty = undefined;
    this.wss.close();
  }

  private onEmpty: (() => boolean) | undefined;

  private userConnections(userId: UserId): Iterable<Connection> {
    const held = this.byUser.get(userId);
    return held === undefined ? [] : held instanceof Set ? held : [held];
  }

  private readonly hooks = {
    onClosing: (closing: Connection) => this.unregister(closing),
    onReleased: (released: Connection) => this.forget(released),
  };

  private async upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    version: number,
  ): Promise<void> {
    const { clock, ids } = this.deps;
    const connection = new Connection(ids.connection(), this.shared);
    let gone = false;
    const onGone = () => {
      gone = true;
    };
    socket.once("close", onGone);
    socket.once("error", onGone);
    let principal: Principal | undefined;
    let duplicates: ConnectionEntry[] = [];
    let ticket: CapTicket | undefined;
    try {
      if (this.draining) {
        throw new HandshakeRejection(503, "service_unavailable", "the gateway is shutting down");
      }
      checkVersion(version);
      ticket = this.caps.begin(clientAddressOf(request, this.deps.trustedProxies ?? NO_TRUSTED_PROXIES));
      const { token, deviceId } = credentialsOf(request, url);
      const claims = await verifyAccessToken(token, this.deps.keys, clock.now());
      this.admitConnect(claims.userId);
      ticket.admitUser(claims.userId, deviceId, this.userConnections(claims.userId));
      await this.checkSession(claims.sessionId, claims.userId);
      // One literal shape for every connection's principal: a spread of the claims plus the device gives each
      // object a hidden class (and property array) of its own, about 250 bytes per idle connection.
      principal = {
        userId: claims.userId,
        sessionId: claims.sessionId,
        tokenId: claims.tokenId,
        expiresAt: claims.expiresAt,
        deviceId,
      };
      connection.principal = principal;
      try {
        duplicates = await this.deps.connections.register(
          connection.entry(clock.now()),
          this.limits.routingTtlMs,
        );
        this.refresher.report(true);
      } catch (error) {
        this.logger.warn({ err: error }, "routing registration failed; refusing the connection");
        this.refresher.report(false);
        throw new HandshakeRejection(503, "service_unavailable", "routing is unavailable; retry later");
      }
    } catch (error) {
      ticket?.settle();
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
    const registered = principal;
    const admitted = ticket;
    if (gone || this.draining) {
      admitted.settle();
      connection.reject();
      this.unregisterEntry(connection.id, registered.userId);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.live.set(connection.id, connection);
      admitted.established(connection);
      const held = this.byUser.get(registered.userId);
      if (held === undefined) this.byUser.set(registered.userId, connection);
      else if (held instanceof Set) held.add(connection);
      else this.byUser.set(registered.userId, new Set([held, connection]));
      connection.establish(ws, registered);
      this.metrics.handshake("accepted");
      this.evict(duplicates);
    });
    // The callback ran (the connection now counts as live) or ws destroyed the socket: either way done.
    admitted.settle();
  }

  /** Protocol §3 `token_revoked`: the token's session was deleted (logout, revocation, refresh reuse). */
  private async checkSession(sessionId: string | undefined, userId: UserId): Promise<void> {
    const sessions = this.sessions;
    if (sessions === undefined || sessionId === undefined) return;
    let live: boolean;
    try {
      live = await sessions.isLive(sessionId, userId);
    } catch (error) {
      this.logger.warn({ err: error }, "session check failed; refusing the connection");
      throw new HandshakeRejection(503, "service_unavailable", "sessions are unavailable; retry later");
    }
    if (!live) {
      throw new HandshakeRejection(
        401,
        "token_revoked",
        "the session of this token was revoked; sign in again",
      );
    }
  }

  /** Per-user connect limit, after the token check so that unauthenticated clients cannot spend a user's. */
  private admitConnect(userId: UserId): void {
    const { connectsPerUserPerMinute } = this.limits;
    let bucket = this.connectBuckets.get(userId);
    if (bucket === undefined) {
      // Full buckets carry no information: forgetting them bounds the map by the users connecting right now.
      if (this.connectBuckets.size >= 10_000) {
        for (const [id, candidate] of this.connectBuckets)
          if (candidate.isFull()) this.connectBuckets.delete(id);
      }
      bucket = new TokenBucket(this.deps.clock, connectsPerUserPerMinute / 60, connectsPerUserPerMinute);
      this.connectBuckets.set(userId, bucket);
    }
    const waitMs = bucket.take();
    if (waitMs > 0) {
      this.metrics.rateLimited("connect", "rate");
      throw new HandshakeRejection(429, "rate_limited", "too many connections; wait before reconnecting", {
        retry_after_seconds: Math.ceil(waitMs / 1000),
      });
    }
  }

  private evict(duplicates: readonly ConnectionEntry[]): void {
    for (const entry of duplicates) {
      const local = this.live.get(entry.connectionId);
      if (entry.gatewayId === this.deps.gatewayId && local !== undefined) local.close("duplicate_connection");
      else if (entry.gatewayId !== this.deps.gatewayId) {
        if (this.deps.peers !== undefined) void this.evictRemote(this.deps.peers, entry);
        else
          this.logger.info(
            { connection_id: entry.connectionId, gateway_id: entry.gatewayId },
            "older connection of the device lives on another gateway",
          );
      }
    }
  }

  private async evictRemote(peers: NonNullable<GatewayDeps["peers"]>, entry: ConnectionEntry): Promise<void> {
    try {
      const peer = await peers.gateway(entry.gatewayId);
      if (peer === undefined) return; // That gateway is gone, and its sockets with it.
      await peer.closeConnections({
        userId: entry.userId,
        connectionId: entry.connectionId,
        reason: "duplicate_connection",
      });
    } catch (error) {
      this.logger.warn(
        { err: error, connection_id: entry.connectionId, gateway_id: entry.gatewayId },
        "could not evict the device's older connection on another gateway",
      );
    }
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
    if (!this.live.delete(connection.id)) return;
    this.caps.released(connection);
    const principal = connection.principal;
    // A client that closed first never passed through `closing`: its entry goes now.
    if (principal !== undefined) {
      this.unregister(connection);
      const held = this.byUser.get(principal.userId);
      if (held === connection) this.byUser.delete(principal.userId);
      else if (held instanceof Set) {
        held.delete(connection);
        const [only, ...rest] = held;
        if (only !== undefined && rest.length === 0) this.byUser.set(principal.userId, only);
      }
    }
    this.onEmpty?.();
  }
}

/** Answers a refused upgrade with the documented status and JSON body, then closes the socket. */
function refuse(socket: Duplex, rejection: HandshakeRejection): void {
  if (socket.destroyed) return;
  const body = rejection.body();
  const hint = rejection.details?.retry_after_seconds;
  const retryAfter =
    typeof hint === "number"
      ? `Retry-After: ${hint}\r\n`
      : rejection.status === 503
        ? "Retry-After: 5\r\n"
        : "";
  socket.end(
    `HTTP/1.1 ${rejection.status} ${STATUS_CODES[rejection.status]}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      retryAfter +
      "Connection: close\r\n\r\n" +
      body,
  );
}
