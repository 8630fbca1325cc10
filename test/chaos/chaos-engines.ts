import { defaultCacheDir, type RunningEngine } from "../../deploy/local/engine.js";
import { freePort } from "../../deploy/local/free-port.js";
import { startKafka } from "../../deploy/local/kafka.js";
import { startRedis } from "../../deploy/local/redis.js";
import { TcpProxy } from "./tcp-proxy.js";

/**
 * The engines a chaos run may break: its own Redis (restarted, flushed) and its own Kafka broker (stopped,
 * restarted, paused), never shared ones; Kafka advertises the address of a TCP proxy, so every connection to
 * it — producers, consumers, the checker — crosses the proxy the fault schedule slows down and cuts.
 */
export interface ChaosEngines {
  readonly redis: RunningEngine;
  readonly kafka: RunningEngine;
  readonly kafkaProxy: TcpProxy;
  /** What the cluster is configured with: Redis directly, Kafka through the proxy. */
  readonly env: { readonly REDIS_URL: string; readonly KAFKA_BROKERS: string };
  stop(): Promise<void>;
}

export async function startChaosEngines(progress: (line: string) => void): Promise<ChaosEngines> {
  const options = { cacheDir: defaultCacheDir(), progress };
  const redis = await startRedis(options);
  const brokerPort = await freePort();
  const kafkaProxy = new TcpProxy("127.0.0.1", brokerPort);
  try {
    await kafkaProxy.start();
    const kafka = await startKafka({ ...options, port: brokerPort, advertisedPort: kafkaProxy.port });
    return {
      redis,
      kafka,
      kafkaProxy,
      env: { REDIS_URL: redis.endpoint, KAFKA_BROKERS: `127.0.0.1:${kafkaProxy.port}` },
      stop: async () => {
        await Promise.allSettled([kafka.stop(), redis.stop()]);
        await kafkaProxy.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    await kafkaProxy.stop();
    throw error;
  }
}
