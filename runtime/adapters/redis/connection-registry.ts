import type { ConnectionId, UserId } from "../../ids.js";
import {
  type ConnectionEntry,
  type ConnectionRef,
  type ConnectionRegistry,
  DEFAULT_LAST_SEEN_TTL_MS,
  type Presence,
} from "../../ports/routing.js";
import { LuaScript, type RedisRegistryOptions, RedisScripts } from "./redis-scripts.js";

/**
 * Connections or users per script call. A script blocks Redis while it runs; a few hundred keys keep that
 * well under a millisecond, and the calls of one request are sent together, so it stays one round trip.
 */
const SCRIPT_BATCH = 500;

export interface RedisConnectionRegistryOptions extends RedisRegistryOptions {
  /** How long last-seen is kept after the user's last connection; default 30 days. */
  readonly lastSeenTtlMs?: number;
}

/**
 * Key names and helpers of every script (ARGV[1] is the key prefix). Scripts derive key names from ids they
 * read, which a standalone Redis allows; Redis Cluster would need one hash tag per user. Sets share one TTL
 * for all members, so they can outlive a member's `connection:` hash: the hash is the truth, and a member
 * without one is removed whenever a script meets it.
 */
const COMMON = `
local P = ARGV[1]
local function connection_key(id) return P .. 'connection:' .. id end
local function user_connections_key(user) return P .. 'user_connections:' .. user end
local function user_gateways_key(user) return P .. 'user_gateways:' .. user end
local function gateway_connections_key(gateway) return P .. 'gateway_connections:' .. gateway end
local function user_device_key(user, device) return P .. 'user_device:' .. user .. ':' .. device end
local function last_seen_key(user) return P .. 'last_seen:' .. user end

-- A set shared by several connections lives as long as its longest-lived member: extend, never shorten.
local function add_member(key, member, ttl)
  redis.call('SADD', key, member)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end

-- Last-seen only moves forward: gateways' clocks may disagree slightly.
local function record_seen(user, at, ttl)
  local key = last_seen_key(user)
  local previous = tonumber(redis.call('GET', key) or '')
  if previous == nil or previous < tonumber(at) then
    redis.call('SET', key, at, 'PX', ttl)
  else
    redis.call('PEXPIRE', key, ttl)
  end
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- The user's connections whose hash still exists, as { id, flat hash fields }.
local function live_connections(user)
  local key = user_connections_key(user)
  local live = {}
  for _, id in ipairs(redis.call('SMEMBERS', key)) do
    local fields = redis.call('HGETALL', connection_key(id))
    if #fields == 0 then redis.call('SREM', key, id) else live[#live + 1] = { id, fields } end
  end
  return live
end

-- user_gateways is the spec's lookup key for other readers: keep it to the gateways of live connections.
local function prune_gateways(user, live)
  local keep = {}
  for _, connection in ipairs(live) do
    local gateway = field(connection[2], 'gateway_id')
    if gateway then keep[gateway] = true end
  end
  local key = user_gateways_key(user)
  for _, gateway in ipairs(redis.call('SMEMBERS', key)) do
    if not keep[gateway] then redis.call('SREM', key, gateway) end
  end
end

local function write_connection(id, user, device, gateway, connected_at, heartbeat_at, ttl, seen_ttl)
  local key = connection_key(id)
  redis.call('HSET', key, 'user_id', user, 'device_id', device, 'gateway_id', gateway,
    'connected_at', connected_at, 'last_heartbeat_at', heartbeat_at)
  redis.call('PEXPIRE', key, ttl)
  add_member(user_connections_key(user), id, ttl)
  add_member(user_gateways_key(user), gateway, ttl)
  add_member(gateway_connections_key(gateway), id, ttl)
  add_member(user_device_key(user, device), id, ttl)
  record_seen(user, heartbeat_at, seen_ttl)
end
`;

/** ARGV: prefix, ttl, seen ttl, id, user, device, gateway, connected at, heartbeat at -> duplicates. */
const REGISTER = new LuaScript(`${COMMON}
local id, user, device = ARGV[4], ARGV[5], ARGV[6]
local device_key = user_device_key(user, device)
local duplicates = {}
for _, other in ipairs(redis.call('SMEMBERS', device_key)) do
  if other ~= id then
    local fields = redis.call('HGETALL', connection_key(other))
    if #fields == 0 then redis.call('SREM', device_key, other) else duplicates[#duplicates + 1] = { other, fields } end
  end
end
write_connection(id, user, device, ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[2]), tonumber(ARGV[3]))
prune_gateways(user, live_connections(user))
return duplicates
`);

/** ARGV: prefix, ttl, seen ttl, gateway, heartbeat at, then (id, user, device, connected at) per connection. */
const REFRESH = new LuaScript(`${COMMON}
local ttl, seen_ttl, gateway, heartbeat_at = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
for i = 6, #ARGV, 4 do
  write_connection(ARGV[i], ARGV[i + 1], ARGV[i + 2], gateway, ARGV[i + 3], heartbeat_at, ttl, seen_ttl)
end
return 0
`);

/** ARGV: prefix, seen ttl, id, user, gateway, at -> number of the user's remaining connections. */
const UNREGISTER = new LuaScript(`${COMMON}
local id, user, gateway = ARGV[3], ARGV[4], ARGV[5]
local key = connection_key(id)
local device = redis.call('HGET', key, 'device_id')
redis.call('DEL', key)
redis.call('SREM', user_connections_key(user), id)
redis.call('SREM', gateway_connections_key(gateway), id)
if device then redis.call('SREM', user_device_key(user, device), id) end
local live = live_connections(user)
prune_gateways(user, live)
if #live == 0 then record_seen(user, ARGV[6], tonumber(ARGV[2])) end
return #live
`);

/** ARGV: prefix, user -> { id, fields } per live connection. */
const CONNECTIONS_OF_USER = new LuaScript(`${COMMON}
return live_connections(ARGV[2])
`);

/** ARGV: prefix, users... -> per user, the distinct gateways of its live connections. */
const GATEWAYS_OF_USERS = new LuaScript(`${COMMON}
local result = {}
for i = 2, #ARGV do
  local seen, gateways = {}, {}
  for _, connection in ipairs(live_connections(ARGV[i])) do
    local gateway = field(connection[2], 'gateway_id')
    if gateway and not seen[gateway] then
      seen[gateway] = true
      gateways[#gateways + 1] = gateway
    end
  end
  result[#result + 1] = gateways
end
return result
`);

/** ARGV: prefix, users... -> per user { live connection count, last seen or '' } (strings: see the class comment). */
const PRESENCE_OF = new LuaScript(`${COMMON}
local result = {}
for i = 2, #ARGV do
  local count = #live_connections(ARGV[i])
  result[#result + 1] = { tostring(count), redis.call('GET', last_seen_key(ARGV[i])) or '' }
end
return result
`);

/**
 * Connection routing and presence in Redis (spec §3, with `user_servers` named `user_gateways`), every change
 * one Lua script, hence atomic. Keys: `connection:{id}` HASH, `user_connections:{user}`,
 * `user_gateways:{user}`, `gateway_connections:{gateway}`, `user_device:{user}:{device}` SETs (duplicate
 * detection), `last_seen:{user}` STRING; times are epoch milliseconds, TTLs set with PEXPIRE by Redis's own
 * clock. Scripts return only strings and arrays: under RESP3 a Lua `false` would arrive as a boolean.
 */
export class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly redis: RedisScripts;
  private readonly lastSeenTtlMs: number;

  constructor(options: RedisConnectionRegistryOptions) {
    this.redis = new RedisScripts(options);
    this.lastSeenTtlMs = options.lastSeenTtlMs ?? DEFAULT_LAST_SEEN_TTL_MS;
  }

  async register(entry: ConnectionEntry, ttlMs: number): Promise<ConnectionEntry[]> {
    const reply = await this.redis.run("register", REGISTER, [
      ...[ttlMs, this.lastSeenTtlMs, entry.connectionId, entry.userId, entry.deviceId, entry.gatewayId],
      ...[entry.connectedAt, entry.lastHeartbeatAt],
    ]);
    return entriesFrom(reply).sort(byConnectionId);
  }

  async refresh(
    gatewayId: string,
    connections: readonly ConnectionEntry[],
    ttlMs: number,
    heartbeatAt: number,
  ): Promise<void> {
    const batches = chunks(connections).map((batch) =>
      this.redis.run("refresh", REFRESH, [
        ...[ttlMs, this.lastSeenTtlMs, gatewayId, heartbeatAt],
        ...batch.flatMap((entry) => [entry.connectionId, entry.userId, entry.deviceId, entry.connectedAt]),
      ]),
    );
    await Promise.all(batches);
  }

  async unregister(connection: ConnectionRef & { readonly gatewayId: string }, at: number): Promise<void> {
    await this.redis.run("unregister", UNREGISTER, [
      ...[this.lastSeenTtlMs, connection.connectionId, connection.userId, connection.gatewayId, at],
    ]);
  }

  async getConnection(connectionId: ConnectionId): Promise<ConnectionEntry | undefined> {
    // ioredis turns HGETALL into an object under RESP3 too ({} when the key does not exist).
    const fields = await this.redis.call("getConnection", (client) =>
      client.hgetall(`${this.redis.prefix}connection:${connectionId}`),
    );
    return entryFrom(connectionId, fields);
  }

  async connectionsOfUser(userId: UserId): Promise<ConnectionEntry[]> {
    const reply = await this.redis.run("connectionsOfUser", CONNECTIONS_OF_USER, [userId]);
    return entriesFrom(reply).sort(byConnectionId);
  }

  async gatewaysOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, string[]>> {
    const gateways = new Map<UserId, string[]>();
    await this.perUser("gatewaysOfUsers", GATEWAYS_OF_USERS, userIds, (userId, reply) => {
      gateways.set(userId, strings(reply).sort());
    });
    return gateways;
  }

  async presenceOf(userIds: readonly UserId[]): Promise<Map<UserId, Presence>> {
    const presence = new Map<UserId, Presence>();
    await this.perUser("presenceOf", PRESENCE_OF, userIds, (userId, reply) => {
      const [count = "0", lastSeen = ""] = strings(reply);
      presence.set(
        userId,
        Number(count) > 0
          ? { status: "online", lastSeenAt: null }
          : { status: "offline", lastSeenAt: lastSeen === "" ? null : Number(lastSeen) },
      );
    });
    return presence;
  }

  /** Closes the client if this registry created it. */
  close(): Promise<void> {
    return this.redis.close();
  }

  /** Runs a per-user script over batches of users sent together; replies come back in the users' order. */
  private async perUser(
    operation: string,
    script: LuaScript,
    userIds: readonly UserId[],
    onReply: (userId: UserId, reply: unknown) => void,
  ): Promise<void> {
    const batches = chunks(userIds);
    const replies = await Promise.all(batches.map((batch) => this.redis.run(operation, script, batch)));
    for (const [b, batch] of batches.entries()) {
      const reply = replies[b];
      for (const [i, userId] of batch.entries()) onReply(userId, Array.isArray(reply) ? reply[i] : undefined);
    }
  }
}

const byConnectionId = (a: ConnectionEntry, b: ConnectionEntry): number =>
  a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0;

const chunks = <T>(items: readonly T[]): T[][] => {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += SCRIPT_BATCH) result.push(items.slice(i, i + SCRIPT_BATCH));
  return result;
};

const strings = (reply: unknown): string[] =>
  Array.isArray(reply) ? reply.filter((item): item is string => typeof item === "string") : [];

/** `{ id, [field, value, …] }` pairs from a script. */
function entriesFrom(reply: unknown): ConnectionEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: ConnectionEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const [id, flat] = item as [unknown, unknown];
    const values = strings(flat);
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < values.length; i += 2) fields[values[i] as string] = values[i + 1] as string;
    const entry = typeof id === "string" ? entryFrom(id as ConnectionId, fields) : undefined;
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/**
 * A `connection:` hash as an entry. A hash missing a field was not written by us (every write sets them all
 * at once): it is treated as absent rather than routed to.
 */
function entryFrom(
  connectionId: ConnectionId,
  fields: Readonly<Record<string, string>>,
): ConnectionEntry | undefined {
  const { user_id, device_id, gateway_id, connected_at, last_heartbeat_at } = fields;
  const connectedAt = Number(connected_at);
  const lastHeartbeatAt = Number(last_heartbeat_at);
  if (user_id === undefined || device_id === undefined || gateway_id === undefined) return undefined;
  if (!Number.isFinite(connectedAt) || !Number.isFinite(lastHeartbeatAt)) return undefined;
  return {
    connectionId,
    userId: user_id as UserId,
    deviceId: device_id,
    gatewayId: gateway_id,
    connectedAt,
    lastHeartbeatAt,
  };
}
