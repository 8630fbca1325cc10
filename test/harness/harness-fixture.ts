import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ArmedFailpoints } from "../../actors/chat-sequencer/failpoints.js";
import type { GatewayLimits } from "../../gateway/limits.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../../runtime/ingest-api.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import {
  Redis,
  type RunningGateway,
  startGateway,
  type TestKeys,
  testKeys,
} from "../support/gateway-harness.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";
import { seededRandom } from "./backoff.js";
import { type AccessToken, type ClientOptions, MessagingClient, type TokenProvider } from "./client.js";
import { stateFileFor } from "./client-store.js";
import type { ClientFrame } from "./wire.js";

/**
 * The reference client against the real connection plane: a gateway (gateway/testing) on port 0 whose
 * durability plane is a real IngestService on dynalite and Kafka (test/support/ingest-fixture). Only the clock
 * is fake — one ManualClock shared by the gateway, the ingest service and the clients.
 */

/**
 * Holds the reply of a persist that already happened, as a slow network would: the message is stored, the
 * ack is late. Everything else passes straight through to the real service.
 */
export class LateReplies implements IngestApi {
  private holdNext = 0;
  private readonly held: Array<() => void> = [];

  constructor(private readonly inner: IngestApi) {}

  hold(count = 1): void {
    this.holdNext += count;
  }

  get heldCount(): number {
    return this.held.length;
  }

  release(): void {
    for (const resume of this.held.splice(0)) resume();
  }

  async persist(request: PersistRequest): Promise<PersistResult> {
    const result = await this.inner.persist(request);
    if (this.holdNext > 0) {
      this.holdNext--;
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    return result;
  }

  sync(request: SyncRequest): Promise<SyncResult> {
    return this.inner.sync(request);
  }

  ack(request: AckRequest): Promise<AckResult> {
    return this.inner.ack(request);
  }
}

export interface CountingTokens extends TokenProvider {
  readonly calls: { total: number; forced: number };
}

export interface HarnessWorld {
  readonly fixture: IngestFixture;
  readonly keys: TestKeys;
  readonly ingest: IngestApi;
  readonly late: LateReplies;
  /** Crash points of the write path of the one ingest service behind every gateway. */
  readonly failpoints: ArmedFailpoints;
  readonly gateway: RunningGateway;
  readonly redis: Redis;
  readonly stateDir: string;
  /** Tokens for a user that live `ttlMs`; `first` (if given) is what the first call returns. */
  tokens(userId: UserId, options?: { ttlMs?: number; first?: string }): CountingTokens;
  client(userId: UserId, options?: Partial<ClientOptions> & { seed?: number }): TestedClient;
  /** Another gateway on the same durability plane, e.g. with smaller limits. */
  startGateway(limits: Partial<GatewayLimits>): Promise<RunningGateway>;
  /** Messages persisted through the real durability plane, as another member's client would. */
  persist(chatId: ChatId, senderId: UserId, contents: readonly string[]): Promise<StoredMessage[]>;
  /** What fanout would do: push stored messages to a user's connections through the gateway. */
  push(gateway: RunningGateway, userId: UserId, messages: readonly StoredMessage[]): Promise<void>;
  /** Moves the shared clock in steps, letting socket I/O (heartbeats and their acks) happen in between. */
  advance(totalMs: number, stepMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A client plus a log of every frame it sent, for assertions about the wire. */
export interface TestedClient {
  readonly client: MessagingClient;
  readonly sent: ClientFrame[];
  readonly tokens: CountingTokens;
  readonly stateFile: string;
  sentOfType<T extends ClientFrame["type"]>(type: T): Extract<ClientFrame, { type: T }>[];
}

let clientCounter = 0;

export async function harnessWorld(engines: {
  dynamodb: string;
  redis: string;
  kafka: string;
}): Promise<HarnessWorld> {
  const fixture = await ingestFixture({ dynamodb: engines.dynamodb, kafka: engines.kafka });
  const redis = new Redis(engines.redis);
  const keys = await testKeys(fixture.clock);
  const failpoints = new ArmedFailpoints();
  const ingest = fixture.runtime({ failpoints });
  const late = new LateReplies(ingest);
  const gateways: RunningGateway[] = [];
  const begin = (limits: Partial<GatewayLimits>) =>
    startGateway({
      clock: fixture.clock,
      ids: fixture.ids,
      ingest: late,
      keys: keys.source,
      redis,
      limits,
    }).then((running) => {
      gateways.push(running);
      return running;
    });
  const gateway = await begin({});
  const stateDir = mkdtempSync(join(tmpdir(), "harness-"));
  const clients: MessagingClient[] = [];
  const inFlightBeats: Array<Set<string>> = [];

  const tokens = (userId: UserId, options: { ttlMs?: number; first?: string } = {}): CountingTokens => {
    const calls = { total: 0, forced: 0 };
    let first = options.first;
    return {
      calls,
      async getToken({ forceRefresh }): Promise<AccessToken> {
        calls.total++;
        if (forceRefresh) calls.forced++;
        const now = fixture.clock.now();
        const expiresAtMs = now + (options.ttlMs ?? 3_600_000);
        if (first !== undefined) {
          const token = first;
          first = undefined;
          return { accessToken: token, expiresAtMs };
        }
        const accessToken = await keys.token(userId, now, { exp: Math.floor(expiresAtMs / 1000) });
        return { accessToken, expiresAtMs };
      },
    };
  };

  const world: HarnessWorld = {
    fixture,
    keys,
    ingest,
    late,
    failpoints,
    gateway,
    redis,
    stateDir,
    tokens,
    client(userId, options = {}) {
      const sent: ClientFrame[] = [];
      const provider = (options.tokens as CountingTokens | undefined) ?? tokens(userId);
      const deviceId = options.deviceId ?? `device-${++clientCounter}`;
      const stateFile = options.stateFile ?? stateFileFor(stateDir, userId, deviceId);
      const client = new MessagingClient({
        url: gateway.url,
        clock: fixture.clock,
        random: seededRandom(options.seed ?? 7),
        userId,
        deviceId,
        stateFile,
        ...options,
        tokens: provider,
      });
      client.on("sent", (frame) => sent.push(frame));
      // Heartbeats in flight, so `advance` can let the gateway see each one before time moves on.
      const beats = new Set<string>();
      client.on("sent", (frame) => {
        if (frame.type === "heartbeat") beats.add(frame.request_id);
      });
      client.on("received", (frame) => {
        if (frame.type === "heartbeat_ack" && frame.request_id !== undefined) beats.delete(frame.request_id);
      });
      client.on("state", ({ state }) => {
        if (state === "Disconnected" || state === "Closing") beats.clear();
      });
      inFlightBeats.push(beats);
      clients.push(client);
      return {
        client,
        sent,
        tokens: provider,
        stateFile,
        sentOfType: <T extends ClientFrame["type"]>(type: T) =>
          sent.filter((frame): frame is Extract<ClientFrame, { type: T }> => frame.type === type),
      };
    },
    startGateway: begin,
    async persist(chatId, senderId, contents) {
      const stored: StoredMessage[] = [];
      for (const content of contents) {
        const result = await ingest.persist({
          chatId,
          senderId,
          clientMessageId: crypto.randomUUID(),
          content,
          contentType: "text/plain",
        });
        const message = await fixture.messageStore.getMessage(chatId, result.sequence);
        if (message === undefined) throw new Error(`persisted ${result.sequence} is not readable`);
        stored.push(message);
      }
      return stored;
    },
    async push(target, userId, messages) {
      await target.gateway.api.deliver(messages.map((message) => ({ userId, message })));
    },
    async advance(totalMs, stepMs = 5_000) {
      let left = totalMs;
      while (left > 0) {
        const step = Math.min(stepMs, left);
        fixture.clock.advance(step);
        left -= step;
        // Socket I/O, not a timer: every heartbeat just sent reaches the gateway (its ack is back) before the
        // clock moves on, or the gateway's idle timer would fire on a heartbeat still in the socket.
        await new Promise((resolve) => setImmediate(resolve));
        await waitFor(() => inFlightBeats.every((beats) => beats.size === 0), {
          intervalMs: 2,
          what: "heartbeats to reach the gateway",
        });
      }
    },
    async close() {
      for (const client of clients) {
        if (client.connectivity !== "offline") client.abandon();
      }
      for (const running of gateways) await running.close();
      redis.disconnect();
      await fixture.cleanup();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Waits until the client reports `state` (real I/O, with a deadline). */
export const reach = (client: MessagingClient, state: MessagingClient["state"], timeoutMs = 10_000) =>
  waitFor(() => client.state === state, { timeoutMs, what: `client state ${state} (is ${client.state})` });
