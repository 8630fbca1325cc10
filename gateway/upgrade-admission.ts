import type { IncomingMessage } from "node:http";
import type { Clock } from "../runtime/clock.js";
import type { TrustedProxies } from "../runtime/http/client-address.js";
import type { UserId } from "../runtime/ids.js";
import type { Logger } from "../runtime/logger.js";
import type { GatewayRecorder } from "../runtime/metrics/recorders.js";
import type { ConnectionEntry, ConnectionRegistry } from "../runtime/ports/routing.js";
import { clientAddressOf } from "./client-address.js";
import type { Connection } from "./connection.js";
import type { CapTicket, ConnectionCaps } from "./connection-caps.js";
import {
  checkVersion,
  credentialsOf,
  HandshakeRejection,
  type Principal,
  verifyAccessToken,
} from "./handshake.js";
import type { JwtKeySource } from "./jwt-keys.js";
import type { GatewayLimits } from "./limits.js";
import type { RoutingRefresher } from "./routing-refresher.js";
import type { SessionLiveness } from "./session-liveness.js";
import { TokenBucket } from "./token-bucket.js";

/** Users whose connect buckets are kept before the full ones are forgotten (a full bucket says nothing). */
const MAX_CONNECT_BUCKETS = 10_000;

export interface UpgradeAdmissionOptions {
  readonly clock: Clock;
  readonly limits: GatewayLimits;
  readonly keys: JwtKeySource;
  readonly caps: ConnectionCaps;
  readonly registry: ConnectionRegistry;
  readonly refresher: RoutingRefresher;
  /** Absent: a valid signature is enough (see GatewayDeps.sessions). */
  readonly sessions: SessionLiveness | undefined;
  readonly trustedProxies: TrustedProxies;
  readonly metrics: GatewayRecorder;
  readonly logger: Logger;
  readonly isDraining: () => boolean;
  /** The gateway's connections of a user, for the per-user cap. */
  readonly connectionsOf: (userId: UserId) => Iterable<Connection>;
}

/** An upgrade that passed every check: who connects, the device's older routing entries, its cap places. */
export interface Admission {
  readonly principal: Principal;
  readonly duplicates: ConnectionEntry[];
  readonly ticket: CapTicket;
}

/**
 * Whether an upgrade request may become a connection (protocol §3), checked in the documented order: the
 * gateway is not draining, the version, the per-address cap, the credentials and the token, the user's
 * connect rate and cap, the token's session, and finally the routing entry, without which nobody could reach
 * the connection. Every refusal is a HandshakeRejection; the cap places taken so far are given back.
 */
export class UpgradeAdmission {
  private readonly connectBuckets = new Map<UserId, TokenBucket>();

  constructor(private readonly options: UpgradeAdmissionOptions) {}

  async admit(
    request: IncomingMessage,
    url: URL,
    version: number,
    connection: Connection,
  ): Promise<Admission> {
    const { caps, clock, keys, trustedProxies } = this.options;
    let ticket: CapTicket | undefined;
    try {
      if (this.options.isDraining()) {
        throw new HandshakeRejection(503, "service_unavailable", "the gateway is shutting down");
      }
      checkVersion(version);
      ticket = caps.begin(clientAddressOf(request, trustedProxies));
      const { token, deviceId } = credentialsOf(request, url);
      const claims = await verifyAccessToken(token, keys, clock.now());
      this.admitConnect(claims.userId);
      ticket.admitUser(claims.userId, deviceId, this.options.connectionsOf(claims.userId));
      await this.checkSession(claims.sessionId, claims.userId);
      // One literal shape for every connection's principal: a spread of the claims plus the device gives each
      // object a hidden class (and property array) of its own, about 250 bytes per idle connection.
      const principal: Principal = {
        userId: claims.userId,
        sessionId: claims.sessionId,
        tokenId: claims.tokenId,
        expiresAt: claims.expiresAt,
        deviceId,
      };
      connection.principal = principal;
      const duplicates = await this.register(connection);
      return { principal, duplicates, ticket };
    } catch (error) {
      ticket?.settle();
      throw error;
    }
  }

  /** Per-user connect limit, after the token check so that unauthenticated clients cannot spend a user's. */
  private admitConnect(userId: UserId): void {
    const { connectsPerUserPerMinute } = this.options.limits;
    let bucket = this.connectBuckets.get(userId);
    if (bucket === undefined) {
      // Full buckets carry no information: forgetting them bounds the map by the users connecting right now.
      if (this.connectBuckets.size >= MAX_CONNECT_BUCKETS) {
        for (const [id, candidate] of this.connectBuckets)
          if (candidate.isFull()) this.connectBuckets.delete(id);
      }
      bucket = new TokenBucket(this.options.clock, connectsPerUserPerMinute / 60, connectsPerUserPerMinute);
      this.connectBuckets.set(userId, bucket);
    }
    const waitMs = bucket.take();
    if (waitMs > 0) {
      this.options.metrics.rateLimited("connect", "rate");
      throw new HandshakeRejection(429, "rate_limited", "too many connections; wait before reconnecting", {
        retry_after_seconds: Math.ceil(waitMs / 1000),
      });
    }
  }

  /** Protocol §3 `token_revoked`: the token's session was deleted (logout, revocation, refresh reuse). */
  private async checkSession(sessionId: string | undefined, userId: UserId): Promise<void> {
    const sessions = this.options.sessions;
    if (sessions === undefined || sessionId === undefined) return;
    let live: boolean;
    try {
      live = await sessions.isLive(sessionId, userId);
    } catch (error) {
      this.options.logger.warn({ err: error }, "session check failed; refusing the connection");
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

  /** Writes the routing entry; returns the device's older entries (to evict). Unreachable routing refuses. */
  private async register(connection: Connection): Promise<ConnectionEntry[]> {
    const { registry, refresher, clock, limits } = this.options;
    try {
      const duplicates = await registry.register(connection.entry(clock.now()), limits.routingTtlMs);
      refresher.report(true);
      return duplicates;
    } catch (error) {
      this.options.logger.warn({ err: error }, "routing registration failed; refusing the connection");
      refresher.report(false);
      throw new HandshakeRejection(503, "service_unavailable", "routing is unavailable; retry later");
    }
  }
}
