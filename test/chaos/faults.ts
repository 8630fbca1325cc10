import type { Redis } from "ioredis";
import type { ClusterNode, LocalCluster } from "../../deploy/local/cluster.js";
import type { ChaosEngines } from "./chaos-engines.js";
import { growth, readMetrics } from "./node-metrics.js";
import { peerOwnedBy } from "./socket-owner.js";
import type { TcpProxy } from "./tcp-proxy.js";

export const FAULT_KINDS = [
  "kill_ingest",
  "kill_gateway",
  "kill_fanout",
  "drain_ingest",
  "add_ingest",
  "flush_redis",
  "restart_redis",
  "live_second_owner",
  "slow_dynamodb",
  "cut_dynamodb",
  "slow_kafka",
  "cut_kafka",
  "pause_kafka",
  "restart_kafka",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault that was not put into effect (nothing to hit, or the target busy): it does not count as occurred. */
export class NotInjected extends Error {}

export interface FaultTargets {
  readonly cluster: LocalCluster;
  /** The harness's own client of Redis (not through the cluster's proxy). */
  readonly redis: Redis;
  readonly engines: ChaosEngines;
  readonly random: () => number;
  readonly restarts: Array<Promise<void>>;
  readonly dynamoProxy: TcpProxy;
  /** True while the broker restarts: no other broker fault meanwhile. */
  kafkaBusy: boolean;
  /**
   * Reconnects every second client (no random draw, so the fault schedule's stream does not shift); the entry
   * proxy spreads new connections over the healthy gateways. Returns how many.
   */
  readonly reconnectClients: () => Promise<number>;
  /** Fencing conflicts the ingest nodes counted while a live second owner was cut off, over the run. */
  fencingConflicts: number;
  readonly progress: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Puts one fault into effect and says what it did; throws NotInjected when there was nothing to do it to. */
export async function inject(kind: FaultKind, targets: FaultTargets): Promise<string> {
  const { cluster, redis, engines, random, restarts, dynamoProxy } = targets;
  const pickNode = (role: ClusterNode["role"]) => {
    const nodes = cluster.nodes.filter((node) => node.role === role && node.exit === undefined);
    const node = nodes[Math.floor(random() * nodes.length)];
    if (node === undefined) throw new NotInjected(`no ${role} node running`);
    return node;
  };
  const background = (work: Promise<void>) => {
    work.catch(() => {}); // awaited (and reported) with the others when the workload ends
    restarts.push(work);
  };
  const killAndRestart = async (role: ClusterNode["role"]) => {
    const { nodeId } = pickNode(role);
    await cluster.kill(nodeId);
    const downMs = 500 + random() * 2_000;
    background(sleep(downMs).then(() => restartUntilHealthy(cluster, nodeId)));
    return `${nodeId} (down ${(downMs / 1000).toFixed(1)} s, then restarted)`;
  };
  // An operator's ring change, retried as an operator would when the admin API answers an error (its
  // storage may be cut or slow at that moment): a node removed must be added back.
  const ring = async (change: string, nodeId: string) => {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${cluster.adminUrl}/admin/ring/changes`, {
        method: "POST",
        headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ kind: change, node_id: nodeId }),
      }).catch((error: unknown) => error as Error);
      if (!(response instanceof Error) && response.ok) return;
      const why = response instanceof Error ? response.message : await response.text();
      if (attempt >= 60) throw new Error(`ring ${change} ${nodeId}: ${why}`);
      await sleep(1_000);
    }
  };
  const kafkaFault = async (describe: () => Promise<string>) => {
    if (targets.kafkaBusy) throw new NotInjected("the broker is restarting");
    return describe();
  };
  switch (kind) {
    case "kill_ingest":
      return killAndRestart("ingest");
    case "kill_gateway":
      return killAndRestart("gateway");
    case "kill_fanout":
      return killAndRestart("fanout");
    case "drain_ingest": {
      const { nodeId } = pickNode("ingest");
      await ring("drain", nodeId);
      await sleep(1_000 + random() * 2_000);
      await ring("activate", nodeId);
      return `${nodeId} drained, then active again`;
    }
    case "add_ingest": {
      // The ring loses a member, then the node is added (joins) again: chats move away and back under load.
      const { nodeId } = pickNode("ingest");
      await ring("remove", nodeId);
      await sleep(1_000 + random() * 2_000);
      await ring("add", nodeId);
      return `${nodeId} removed from the ring, then added`;
    }
    case "flush_redis": {
      await redis.connect().catch(() => {});
      await redis.flushall();
      return "FLUSHALL";
    }
    case "restart_redis": {
      await engines.redis.restart?.("SIGKILL");
      return "redis-server killed and started again, empty";
    }
    case "live_second_owner":
      return liveSecondOwner(targets, pickNode("ingest"), pickNode("gateway"));
    case "slow_dynamodb": {
      const ms = 20 + Math.floor(random() * 180);
      const forMs = 2_000 + random() * 3_000;
      dynamoProxy.slow(ms, forMs);
      return `+${ms} ms per chunk for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "cut_dynamodb": {
      const forMs = 500 + random() * 2_500;
      dynamoProxy.cut(forMs);
      return `connections dropped, refused for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "slow_kafka": {
      const ms = 20 + Math.floor(random() * 180);
      const forMs = 2_000 + random() * 3_000;
      engines.kafkaProxy.slow(ms, forMs);
      return `+${ms} ms per chunk for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "cut_kafka": {
      const forMs = 500 + random() * 2_500;
      engines.kafkaProxy.cut(forMs);
      return `connections dropped, refused for ${(forMs / 1000).toFixed(1)} s`;
    }
    case "pause_kafka":
      return kafkaFault(async () => {
        const pid = engines.kafka.pid;
        if (pid === undefined) throw new NotInjected("no broker pid");
        const forMs = 2_000 + random() * 4_000;
        process.kill(pid, "SIGSTOP");
        await sleep(forMs);
        process.kill(pid, "SIGCONT");
        return `broker frozen (SIGSTOP) for ${(forMs / 1000).toFixed(1)} s`;
      });
    case "restart_kafka":
      return kafkaFault(async () => {
        const signal = random() < 0.5 ? "SIGTERM" : "SIGKILL";
        targets.kafkaBusy = true;
        background(
          (async () => {
            try {
              // A supervisor starts the broker again until it serves (a start can time out on a busy machine).
              for (let attempt = 1; ; attempt++) {
                try {
                  await engines.kafka.restart?.(attempt === 1 ? signal : "SIGKILL");
                  return;
                } catch (error) {
                  targets.progress(
                    `kafka restart attempt ${attempt} failed: ${String(error).split("\n")[0]}`,
                  );
                  if (attempt >= 3) throw error;
                }
              }
            } finally {
              targets.kafkaBusy = false;
            }
          })(),
        );
        return `broker stopped (${signal}), restarting in the background`;
      });
  }
}

/**
 * The minority side of a network partition: one ingest node and one gateway lose Redis, nothing else. The
 * ingest node's heartbeats stop, so after NODE_TTL_MS the other nodes drop it from their rings and its chats
 * get new owners; but it keeps its last ring (a failed refresh keeps the last snapshot) and serves on, and so
 * does the cut-off gateway, which keeps routing those chats to it. Two owners write the same chats until the
 * cut heals; D2's conditional writes must fence them. The cut has to outlast the TTL by seconds for that.
 */
async function liveSecondOwner(
  targets: FaultTargets,
  ingest: ClusterNode,
  gateway: ClusterNode,
): Promise<string> {
  if (ingest.child.pid === undefined || gateway.child.pid === undefined)
    throw new NotInjected("no process id to cut off");
  const spread = await spreadClients(targets);
  const ofIngest = peerOwnedBy(new Set([ingest.child.pid]));
  const ofGateway = peerOwnedBy(new Set([gateway.child.pid]));
  const before = await readMetrics(targets.cluster, EVIDENCE);
  const forMs = 5_000 + targets.random() * 3_000;
  let ingestHits = 0;
  const dropped = targets.engines.redisProxy.cutSome(forMs, (client) => {
    if (!ofIngest(client)) return ofGateway(client);
    ingestHits++;
    return true;
  });
  // Without an open connection of the ingest node found, its heartbeats might go on: no second owner.
  if (ingestHits === 0) {
    targets.engines.redisProxy.heal();
    throw new NotInjected(`no open Redis connection of ${ingest.nodeId} found (${dropped} dropped)`);
  }
  await sleep(forMs);
  // The healed node's first writes still meet what the other owner wrote meanwhile.
  await sleep(1_000);
  const after = await readMetrics(targets.cluster, EVIDENCE);
  const conflicts = growth(before, after, "durability_transaction_conflicts_total");
  targets.fencingConflicts += conflicts;
  const isCut = (node: ClusterNode) => node.nodeId === ingest.nodeId || node.nodeId === gateway.nodeId;
  const isOther = (node: ClusterNode) => !isCut(node);
  const sides = (name: string) =>
    `${growth(before, after, name, isCut)}/${growth(before, after, name, isOther)}`;
  return (
    `${ingest.nodeId} and ${gateway.nodeId} cut from Redis for ${(forMs / 1000).toFixed(1)} s ` +
    `(${dropped} connections dropped${spread}); meanwhile, cut-off side/the rest: sends received by gateways ` +
    `${sides(SENDS_RECEIVED)}, messages written ${sides("durability_messages_persisted_total")}; ` +
    `${conflicts} fencing conflicts`
  );
}

/**
 * Two owners write only if sends reach both sides: clients piled on one gateway (after the other was killed,
 * nobody moves back) are spread over both first.
 */
async function spreadClients(targets: FaultTargets): Promise<string> {
  const gauge = "gateway_connections_active";
  const readings = await readMetrics(targets.cluster, [gauge]);
  const perGateway = [...readings.values()]
    .filter(({ node }) => node.role === "gateway")
    .map(({ totals }) => totals.get(gauge) ?? 0);
  const total = perGateway.reduce((sum, n) => sum + n, 0);
  if (perGateway.length < 2 || Math.min(...perGateway) >= total / 3) return "";
  const moved = await targets.reconnectClients();
  return `; ${moved} clients reconnected first, the gateways held ${perGateway.join("/")}`;
}

const SENDS_RECEIVED = 'gateway_messages_received_total{type="send_message"}';
/** Counters that show whether both sides of the partition took sends, and whether the owners collided. */
const EVIDENCE = [
  SENDS_RECEIVED,
  "durability_messages_persisted_total",
  "durability_transaction_conflicts_total",
];

/**
 * Starts a killed node again, as a supervisor would: a node whose start fails while a fault is on (DynamoDB
 * cut, Kafka stopped) exits, and is started again after a pause.
 */
async function restartUntilHealthy(cluster: LocalCluster, nodeId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.restart(nodeId);
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(1_000);
    }
  }
}
