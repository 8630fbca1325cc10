import type { Clock } from "../../clock.js";
import type { ConnectionId, UserId } from "../../ids.js";
import {
  type ConnectionEntry,
  type ConnectionRef,
  type ConnectionRegistry,
  DEFAULT_LAST_SEEN_TTL_MS,
  type Presence,
} from "../../ports/routing.js";

export interface MemoryConnectionRegistryOptions {
  /** Decides expiry: an entry lives while `now() < registeredAt + ttlMs`. */
  readonly clock: Pick<Clock, "now">;
  /** How long last-seen is kept after the user's last connection; default 30 days. */
  readonly lastSeenTtlMs?: number;
}

interface Expiring<T> {
  readonly value: T;
  readonly expiresAt: number;
}

const byConnectionId = (a: ConnectionEntry, b: ConnectionEntry): number =>
  a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0;

/**
 * Connection routing and presence in one process (the embedded mode, unit tests), with the Redis adapter's
 * semantics (one contract suite). Expiry is checked on read against the injected clock, so no timers run:
 * an entry that was not refreshed is simply treated as absent once its time is up, and dropped when next
 * touched. Each method completes before its first await, hence is atomic like the Redis scripts.
 */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly clock: Pick<Clock, "now">;
  private readonly lastSeenTtlMs: number;
  private readonly connections = new Map<ConnectionId, Expiring<ConnectionEntry>>();
  /** Index of `connections` by user; may hold ids whose entry expired (pruned when read). */
  private readonly connectionsByUser = new Map<UserId, Set<ConnectionId>>();
  /** The latest time each user was known online (register, refresh, last unregister). */
  private readonly lastSeen = new Map<UserId, Expiring<number>>();

  constructor(options: MemoryConnectionRegistryOptions) {
    this.clock = options.clock;
    this.lastSeenTtlMs = options.lastSeenTtlMs ?? DEFAULT_LAST_SEEN_TTL_MS;
  }

  async register(entry: ConnectionEntry, ttlMs: number): Promise<ConnectionEntry[]> {
    const duplicates = this.liveConnectionsOf(entry.userId).filter(
      (other) => other.deviceId === entry.deviceId && other.connectionId !== entry.connectionId,
    );
    this.store(entry, ttlMs);
    return duplicates;
  }

  async refresh(
    gatewayId: string,
    connections: readonly ConnectionEntry[],
    ttlMs: number,
    heartbeatAt: number,
  ): Promise<void> {
    // Re-created from the gateway's own view when expired: it still holds the socket (D6).
    for (const connection of connections) {
      this.store({ ...connection, gatewayId, lastHeartbeatAt: heartbeatAt }, ttlMs);
    }
  }

  async unregister(connection: ConnectionRef & { readonly gatewayId: string }, at: number): Promise<void> {
    this.connections.delete(connection.connectionId);
    this.connectionsByUser.get(connection.userId)?.delete(connection.connectionId);
    if (this.liveConnectionsOf(connection.userId).length === 0) this.recordSeen(connection.userId, at);
  }

  async getConnection(connectionId: ConnectionId): Promise<ConnectionEntry | undefined> {
    return this.live(connectionId);
  }

  async connectionsOfUser(userId: UserId): Promise<ConnectionEntry[]> {
    return this.liveConnectionsOf(userId);
  }

  async gatewaysOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, string[]>> {
    const gateways = new Map<UserId, string[]>();
    for (const userId of userIds) {
      const unique = new Set(this.liveConnectionsOf(userId).map((entry) => entry.gatewayId));
      gateways.set(userId, [...unique].sort());
    }
    return gateways;
  }

  async presenceOf(userIds: readonly UserId[]): Promise<Map<UserId, Presence>> {
    const now = this.clock.now();
    const presence = new Map<UserId, Presence>();
    for (const userId of userIds) {
      if (this.liveConnectionsOf(userId).length > 0) {
        presence.set(userId, { status: "online", lastSeenAt: null });
        continue;
      }
      const seen = this.lastSeen.get(userId);
      const lastSeenAt = seen !== undefined && now < seen.expiresAt ? seen.value : null;
      presence.set(userId, { status: "offline", lastSeenAt });
    }
    return presence;
  }

  private store(entry: ConnectionEntry, ttlMs: number): void {
    this.connections.set(entry.connectionId, {
      value: Object.freeze({ ...entry }),
      expiresAt: this.clock.now() + ttlMs,
    });
    let ids = this.connectionsByUser.get(entry.userId);
    if (ids === undefined) {
      ids = new Set();
      this.connectionsByUser.set(entry.userId, ids);
    }
    ids.add(entry.connectionId);
    this.recordSeen(entry.userId, entry.lastHeartbeatAt);
  }

  /** Last-seen only moves forward: gateways' clocks and message order may disagree slightly. */
  private recordSeen(userId: UserId, at: number): void {
    const previous = this.lastSeen.get(userId);
    const kept = previous !== undefined && previous.expiresAt > this.clock.now() ? previous.value : at;
    this.lastSeen.set(userId, {
      value: Math.max(kept, at),
      expiresAt: this.clock.now() + this.lastSeenTtlMs,
    });
  }

  private live(connectionId: ConnectionId): ConnectionEntry | undefined {
    const stored = this.connections.get(connectionId);
    if (stored === undefined) return undefined;
    if (this.clock.now() < stored.expiresAt) return stored.value;
    this.connections.delete(connectionId);
    return undefined;
  }

  /** The user's live entries by connection id; drops expired ones from the index on the way. */
  private liveConnectionsOf(userId: UserId): ConnectionEntry[] {
    const ids = this.connectionsByUser.get(userId);
    if (ids === undefined) return [];
    const entries: ConnectionEntry[] = [];
    for (const id of ids) {
      const entry = this.live(id);
      if (entry === undefined) ids.delete(id);
      else entries.push(entry);
    }
    if (ids.size === 0) this.connectionsByUser.delete(userId);
    return entries.sort(byConnectionId);
  }
}
