import { defaultCacheDir, type RunningEngine } from "../../deploy/local/engine.js";
import { freePort } from "../../deploy/local/free-port.js";
import { startKafka } from "../../deploy/local/kafka.js";
import { startRedis } from "../../deploy/local/redis.js";
import { TcpProxy } from "./tcp-proxy.js";

/**
 * The engines a chaos run may break: its own Redis (restarted, flushed) and its own Kafka broker (stopped,
 * restarted, paused), never shared ones; Kafka advertises the address of a TCP proxy, so every connection to
 * it — producers, consumers, the checker — crosses the proxy the fault schedule slows down and cuts. The
 * cluster reaches Redis through a proxy too, which cuts single processes off (a live second owner).
 */
export interface ChaosEngines {
  readonly redis: RunningEngine;
  readonly redisProxy: TcpProxy;
  readonly kafka: RunningEngine;
  readonly kafkaProxy: TcpProxy;
  /** What the cluster is configured with: Redis and Kafka through their proxies. */
  readonly env: { readonly REDIS_URL: string; readonly KAFKA_BROKERS: string };
  /** Redis itself, for the harness's own client (flushing it is a fault of its own, not a cut one). */
  readonly redisDirectUrl: string;
  stop(): Promise<void>;
}

export async function startChaosEngines(progress: (line: string) => void): Promise<ChaosEngines> {
  const options = { cacheDir: defaultCacheDir(), progress };
  const redis = await startRedis(options);
  const redisUrl = new URL(redis.endpoint);
  // A restarted redis-server keeps its port, so the proxy's target stays right.
  const redisProxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port));
  const brokerPort = await freePort();
  const kafkaProxy = new TcpProxy("127.0.0.1", brokerPort);
  try {
    await redisProxy.start();
    await kafkaProxy.start();
    const kafka = await startKafka({ ...options, port: brokerPort, advertisedPort: kafkaProxy.port });
    return {
      redis,
      redisProxy,
      kafka,
      kafkaProxy,
      env: {
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        KAFKA_BROKERS: `127.0.0.1:${kafkaProxy.port}`,
      },
      redisDirectUrl: redis.endpoint,
      stop: async () => {
        await Promise.allSettled([kafka.stop(), redis.stop()]);
        await Promise.all([redisProxy.stop(), kafkaProxy.stop()]);
      },
    };
  } catch (error) {
    await redis.stop();
    await Promise.all([redisProxy.stop(), kafkaProxy.stop()]);
    throw error;
  }
}
