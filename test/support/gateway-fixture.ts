import { afterAll, beforeAll } from "vitest";
import type { JwtKeySource } from "../../gateway/jwt-keys.js";
import type { GatewayLimits } from "../../gateway/limits.js";
import type { ManualClock } from "../../runtime/clock.js";
import type { IdFactory, UserId } from "../../runtime/ids.js";
import type { IngestApi } from "../../runtime/ingest-api.js";
import { engineEndpoint } from "./engines.js";
import {
  connected,
  newDevice,
  Redis,
  type RunningGateway,
  startGateway,
  type TestClient,
  type TestKeys,
  testKeys,
} from "./gateway-harness.js";
import { type IngestFixture, ingestFixture } from "./ingest-fixture.js";

/**
 * The setup every gateway suite shares: an ingest fixture on dynalite (and Kafka when asked for), a Redis
 * connection for routing, RSA keys, and a gateway on port 0 whose durability plane is a real IngestService.
 * `gatewayFixture()` registers the suite's beforeAll/afterAll and returns a handle whose fields are there once
 * the suite runs; a suite keeps only what differs (limits, a second gateway, data of its own).
 */
export interface GatewayFixtureOptions {
  /** The durability plane publishes to Kafka instead of the in-process log. */
  readonly kafka?: boolean;
  /** Limits of the suite's gateway, or `false` for a suite that starts only gateways of its own. */
  readonly gateway?: { readonly limits?: Partial<GatewayLimits>; readonly gatewayId?: string } | false;
  readonly timeoutMs?: number;
}

/** Another gateway on the suite's engines; what is not given is the suite's own. */
export interface ExtraGatewayOptions {
  readonly ingest?: IngestApi;
  readonly keys?: JwtKeySource;
  readonly limits?: Partial<GatewayLimits>;
  readonly gatewayId?: string;
  readonly keyPrefix?: string;
  readonly peers?: Parameters<typeof startGateway>[0]["peers"];
}

export interface GatewayFixture {
  readonly ingest: IngestFixture;
  readonly clock: ManualClock;
  readonly ids: IdFactory;
  readonly redis: Redis;
  readonly keys: TestKeys;
  /** The suite's gateway (absent with `gateway: false`). */
  readonly running: RunningGateway;
  /** A valid access token of `userId` as of the fixture's clock. */
  token(userId: UserId, claims?: Parameters<TestKeys["token"]>[2]): Promise<string>;
  /** An established connection of `userId` (a new device unless given) to the suite's gateway or `gateway`. */
  open(
    userId: UserId,
    options?: { deviceId?: string; claims?: Parameters<TestKeys["token"]>[2]; gateway?: RunningGateway },
  ): Promise<TestClient>;
  /** Starts another gateway on the suite's engines, closed with the suite unless the test closes it first. */
  startGateway(options?: ExtraGatewayOptions): Promise<RunningGateway>;
}

/** Whether the engines the gateway suites need are there (`npm test` starts them). */
export function gatewayEnginesAvailable(options: { kafka?: boolean } = {}): boolean {
  const dynamodb = engineEndpoint("dynamodb");
  const redis = engineEndpoint("redis");
  const kafka = options.kafka === true ? engineEndpoint("kafka") : "not needed";
  return dynamodb !== undefined && redis !== undefined && kafka !== undefined;
}

export function gatewayFixture(options: GatewayFixtureOptions = {}): GatewayFixture {
  let ingest: IngestFixture | undefined;
  let redis: Redis | undefined;
  let keys: TestKeys | undefined;
  let running: RunningGateway | undefined;
  const started: RunningGateway[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the gateway fixture has no ${what} (used outside the suite?)`);
    return value;
  };

  const fixture: GatewayFixture = {
    get ingest() {
      return ready(ingest, "ingest fixture");
    },
    get clock() {
      return ready(ingest, "ingest fixture").clock;
    },
    get ids() {
      return ready(ingest, "ingest fixture").ids;
    },
    get redis() {
      return ready(redis, "Redis connection");
    },
    get keys() {
      return ready(keys, "keys");
    },
    get running() {
      return ready(running, "gateway of its own");
    },
    token: (userId, claims) => fixture.keys.token(userId, fixture.clock.now(), claims),
    open: async (userId, { deviceId = newDevice(), claims, gateway } = {}) => {
      const url = (gateway ?? fixture.running).url;
      return (await connected(url, { token: await fixture.token(userId, claims), deviceId })).client;
    },
    startGateway: async (extra = {}) => {
      const gateway = await startGateway({
        clock: fixture.clock,
        ids: fixture.ids,
        ingest: extra.ingest ?? fixture.ingest.runtime(),
        keys: extra.keys ?? fixture.keys.source,
        redis: fixture.redis,
        ...(extra.limits === undefined ? {} : { limits: extra.limits }),
        ...(extra.gatewayId === undefined ? {} : { gatewayId: extra.gatewayId }),
        ...(extra.keyPrefix === undefined ? {} : { keyPrefix: extra.keyPrefix }),
        ...(extra.peers === undefined ? {} : { peers: extra.peers }),
      });
      started.push(gateway);
      return gateway;
    },
  };

  beforeAll(async () => {
    ingest = await ingestFixture({
      dynamodb: engineEndpoint("dynamodb") ?? "",
      ...(options.kafka === true ? { kafka: engineEndpoint("kafka") ?? "" } : {}),
    });
    redis = new Redis(engineEndpoint("redis") ?? "");
    keys = await testKeys(ingest.clock);
    if (options.gateway !== false) running = await fixture.startGateway(options.gateway ?? {});
  }, options.timeoutMs ?? 60_000);

  afterAll(async () => {
    // Later gateways first: one may share the routing namespace of the suite's own.
    for (const gateway of started.splice(0).reverse()) await gateway.close();
    redis?.disconnect();
    await ingest?.cleanup();
  }, options.timeoutMs ?? 60_000);

  return fixture;
}
