import {
  NODE_ROLES,
  type NodeInfo,
  type NodePlacement,
  type NodeRegistry,
  type NodeRole,
} from "../../ports/routing.js";
import { LuaScript, type RedisRegistryOptions, RedisScripts } from "./redis-scripts.js";

/**
 * `node:{id}` holds the node's info with a PX TTL, so Redis's own clock decides liveness: nodes never compare
 * each other's timestamps, and a node whose clock runs wrong still expires on time. The `nodes` set indexes
 * them (SCAN would walk the whole keyspace); it outlives members whose key expired, so reads skip and remove
 * those. ARGV[1] is the key prefix.
 */
const COMMON = `
local P = ARGV[1]
local index = P .. 'nodes'
local function node_key(id) return P .. 'node:' .. id end
`;

/** ARGV: prefix, node id, info JSON, ttl. */
const HEARTBEAT = new LuaScript(`${COMMON}
local ttl = tonumber(ARGV[4])
redis.call('SET', node_key(ARGV[2]), ARGV[3], 'PX', ttl)
redis.call('SADD', index, ARGV[2])
-- The index lives as long as its longest-lived member: extend, never shorten.
if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
return 0
`);

/** ARGV: prefix, node id. */
const LEAVE = new LuaScript(`${COMMON}
redis.call('DEL', node_key(ARGV[2]))
redis.call('SREM', index, ARGV[2])
return 0
`);

/** ARGV: prefix -> info JSON of every live node. */
const LIVE_NODES = new LuaScript(`${COMMON}
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', index)) do
  local info = redis.call('GET', node_key(id))
  if info then live[#live + 1] = info else redis.call('SREM', index, id) end
end
return live
`);

/** Node liveness in Redis, shared by every process of a cluster (D5: the ring's live members). */
export class RedisNodeRegistry implements NodeRegistry {
  private readonly redis: RedisScripts;

  constructor(options: RedisRegistryOptions) {
    this.redis = new RedisScripts(options);
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    const info = JSON.stringify({
      nodeId: node.nodeId,
      role: node.role,
      address: node.address,
      startedAt: node.startedAt,
      ...(node.placement === undefined ? {} : { placement: node.placement }),
    });
    await this.redis.run("heartbeat", HEARTBEAT, [node.nodeId, info, ttlMs]);
  }

  async leave(nodeId: string): Promise<void> {
    await this.redis.run("leave", LEAVE, [nodeId]);
  }

  async liveNodes(role?: NodeRole): Promise<NodeInfo[]> {
    const reply = await this.redis.run("liveNodes", LIVE_NODES, []);
    const nodes = (Array.isArray(reply) ? reply : []).flatMap((json) => {
      const node = typeof json === "string" ? nodeFrom(json) : undefined;
      return node !== undefined && (role === undefined || node.role === role) ? [node] : [];
    });
    return nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  /** Closes the client if this registry created it. */
  close(): Promise<void> {
    return this.redis.close();
  }
}

/** A stored node, or undefined for a value we did not write (never routed to). */
function nodeFrom(json: string): NodeInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { nodeId, role, address, startedAt, placement } = value as Record<string, unknown>;
  if (typeof nodeId !== "string" || typeof address !== "string" || typeof startedAt !== "number")
    return undefined;
  if (!(NODE_ROLES as readonly unknown[]).includes(role)) return undefined;
  const node: NodeInfo = { nodeId, role: role as NodeRole, address, startedAt };
  return isPlacement(placement) ? { ...node, placement } : node;
}

function isPlacement(value: unknown): value is NodePlacement {
  if (typeof value !== "object" || value === null) return false;
  const { ringVersion, activeActors, handoffsPending } = value as Record<string, unknown>;
  return [ringVersion, activeActors, handoffsPending].every(
    (n) => typeof n === "number" && Number.isSafeInteger(n),
  );
}
