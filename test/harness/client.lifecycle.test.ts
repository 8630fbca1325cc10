import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatId, UserId } from "../../runtime/ids.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { backoffDelayMs, DEFAULT_BACKOFF, seededRandom } from "./backoff.js";
import { CLOSING_REASONS, type Connectivity } from "./client.machine.js";
import { type HarnessWorld, harnessWorld, reach } from "./harness-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Connection lifecycle through the real gateway: closing reasons, backoff, tokens, heartbeats. */
describe.skipIf(!dynamodb || !redisUrl || !kafka)("reference client: connection lifecycle", () => {
  let world: HarnessWorld;
  let alice: UserId;
  let bob: UserId;

  beforeAll(async () => {
    world = await harnessWorld({ dynamodb: dynamodb ?? "", redis: redisUrl ?? "", kafka: kafka ?? "" });
    alice = world.fixture.ids.user();
    bob = world.fixture.ids.user();
  });

  afterAll(async () => {
    await world?.close();
  });

  const chat = (): Promise<ChatId> => world.fixture.chatWith([alice, bob]);

  it("CL-06: failed connects back off 1 s, doubling to a 30 s cap, ±25% jitter from the injected random", async () => {
    const port = await closedPort();
    const seed = 42;
    const { client } = world.client(alice, { url: `ws://127.0.0.1:${port}/v1/ws`, seed });
    const predict = seededRandom(seed);
    const delays: number[] = [];
    client.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
    void client.connect().catch(() => {});
    for (let attempt = 0; attempt < 8; attempt++) {
      await waitFor(() => delays.length === attempt + 1, { what: `failure ${attempt + 1}` });
      const expected = backoffDelayMs(attempt, DEFAULT_BACKOFF, predict);
      expect(delays[attempt]).toBe(expected);
      const nominal = Math.min(30_000, 1_000 * 2 ** attempt);
      expect(expected).toBeGreaterThanOrEqual(nominal * 0.75);
      expect(expected).toBeLessThanOrEqual(nominal * 1.25);
      // Not a millisecond early.
      world.fixture.clock.advance(expected - 1);
      expect(client.state).toBe("Disconnected");
      world.fixture.clock.advance(1);
      expect(client.state).not.toBe("Disconnected");
    }
    await client.close();
    expect(client.connectivity).toBe("offline");
  });

  for (const reason of CLOSING_REASONS) {
    it(`CL-05, AK-04, RS-01: connection_closing{${reason}} — stop sending, flush acks, wait reconnect_delay_ms + jitter, reconnect, re-sync`, async () => {
      const chatId = await chat();
      const { client, sentOfType, tokens } = world.client(alice, {
        chats: [chatId],
        ...(reason === "duplicate_connection" ? { reconnectOnDuplicate: true } : {}),
      });
      await client.connect();
      const stored = await world.persist(chatId, bob, ["before close"]);
      await world.push(world.gateway, alice, stored);
      await waitFor(() => client.lastAckedSequence(chatId) === 1, { what: "the push" });
      expect(sentOfType("ack")).toHaveLength(0);
      const seen: Connectivity[] = [];
      client.on("state", ({ connectivity }) => seen.push(connectivity));
      const delays: number[] = [];
      client.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
      const forcedBefore = tokens.calls.forced;
      await world.gateway.gateway.api.closeConnections({ userId: alice, reason });
      await reach(client, "Disconnected");
      // AK-04: the pending ack went out before the socket closed.
      expect(sentOfType("ack").map((frame) => frame.payload.last_acked_sequence)).toEqual([1]);
      expect(delays).toHaveLength(1);
      const [delay] = delays;
      expect(delay).toBeGreaterThanOrEqual(5_000);
      expect(delay).toBeLessThanOrEqual(6_250);
      await world.persist(chatId, bob, ["while away"]);
      world.fixture.clock.advance((delay ?? 0) - 1);
      expect(client.state).toBe("Disconnected");
      world.fixture.clock.advance(1);
      await reach(client, "Ready");
      expect(client.messages(chatId).map((message) => message.content)).toEqual([
        "before close",
        "while away",
      ]);
      expect(seen).toContain("reconnecting");
      expect(seen.at(-1)).toBe("connected");
      // token_expired: a fresh token before reconnecting.
      expect(tokens.calls.forced - forcedBefore).toBe(reason === "token_expired" ? 1 : 0);
      await client.close();
    });
  }

  it("duplicate_connection: by default the evicted client stays offline instead of evicting the newer one", async () => {
    const first = world.client(alice, { deviceId: "shared-device" });
    await first.client.connect();
    const reasons: string[] = [];
    first.client.on("closing", ({ reason }) => reasons.push(reason));
    const second = world.client(alice, {
      deviceId: "shared-device",
      stateFile: `${world.stateDir}/second.json`,
    });
    await second.client.connect();
    await waitFor(() => first.client.connectivity === "offline", { what: "the first client to go offline" });
    expect(reasons).toEqual(["duplicate_connection"]);
    await world.advance(60_000, 10_000);
    expect(first.client.state).toBe("Disconnected");
    expect(second.client.state).toBe("Ready");
    await second.client.close();
  });

  it("idle_timeout for real: a gateway that expects heartbeats more often than it announces closes, the client returns", async () => {
    const strict = await world.startGateway({ heartbeatIntervalMs: 30_000, idleTimeoutMs: 10_000 });
    const { client } = world.client(alice, { url: strict.url });
    await client.connect();
    const reasons: string[] = [];
    client.on("closing", ({ reason }) => reasons.push(reason));
    world.fixture.clock.advance(10_000);
    await reach(client, "Disconnected");
    expect(reasons).toEqual(["idle_timeout"]);
    world.fixture.clock.advance(6_250);
    await reach(client, "Ready");
    await client.close();
  });

  it("EH-01 UNAUTHORIZED: a refused token is refreshed and the client reconnects at once", async () => {
    const tokens = world.tokens(alice, { first: "not.a.jwt" });
    const { client } = world.client(alice, { tokens });
    const rejected: number[] = [];
    client.on("rejected", ({ status }) => rejected.push(status));
    const delays: number[] = [];
    client.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
    await client.connect();
    expect(rejected).toEqual([401]);
    // No backoff: straight from Disconnected to Connecting with a refreshed token.
    expect(delays).toEqual([]);
    expect(tokens.calls).toEqual({ total: 2, forced: 1 });
    await client.close();
  });

  it("CL-07: the token is refreshed ahead of its expiry and presented by reconnecting", async () => {
    const tokens = world.tokens(alice, { ttlMs: 60 * 60_000 });
    const { client } = world.client(alice, { tokens });
    await client.connect();
    const reasons: string[] = [];
    client.on("closing", ({ reason }) => reasons.push(reason));
    const refreshed: number[] = [];
    client.on("token_refreshed", () => refreshed.push(world.fixture.clock.now()));
    const start = world.fixture.clock.now();
    await world.advance(55 * 60_000 - 20_000, 20_000);
    expect(refreshed).toEqual([]);
    await world.advance(20_000, 20_000);
    await waitFor(() => refreshed.length === 1, { what: "the refresh" });
    // Protocol §3: about 5 minutes before `exp`.
    expect(refreshed[0]).toBe(start + 55 * 60_000);
    await reach(client, "Ready");
    // Presented before the old token ran out: the server never had to close with token_expired.
    await world.advance(6 * 60_000, 20_000);
    expect(reasons).toEqual([]);
    expect(client.state).toBe("Ready");
    expect(tokens.calls.forced).toBeGreaterThanOrEqual(1);
    await client.close();
  });

  it("token_expired for real: when the early refresh failed, the gateway closes at exp and the client refreshes", async () => {
    const good = world.tokens(alice, { ttlMs: 60_000 });
    let failOnce = true;
    const tokens = {
      calls: good.calls,
      getToken: async (options: { forceRefresh: boolean }) => {
        if (options.forceRefresh && failOnce) {
          failOnce = false;
          throw new Error("refresh endpoint unreachable");
        }
        return good.getToken(options);
      },
    };
    const { client } = world.client(alice, { tokens });
    await client.connect();
    const reasons: string[] = [];
    client.on("closing", ({ reason }) => reasons.push(reason));
    await world.advance(60_000, 5_000);
    await waitFor(() => reasons.length === 1, { what: "the token_expired close" });
    expect(reasons).toEqual(["token_expired"]);
    await reach(client, "Disconnected");
    await world.advance(6_250, 6_250);
    await reach(client, "Ready");
    await client.close();
  });

  it("CL-04, EH-05: heartbeats every heartbeat_interval_ms ±10% from connection_established; RTT is measured", async () => {
    const { client } = world.client(alice, { seed: 3 });
    let established = 0;
    client.on("received", (frame) => {
      if (frame.type === "connection_established") established = world.fixture.clock.now();
    });
    const beats: number[] = [];
    client.on("sent", (frame) => {
      if (frame.type === "heartbeat") beats.push(world.fixture.clock.now());
    });
    await client.connect();
    await world.advance(150_000, 1_000);
    expect(beats.length).toBeGreaterThanOrEqual(4);
    const gaps = beats.map((at, index) => at - (index === 0 ? established : (beats[index - 1] ?? 0)));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(27_000);
      expect(gap).toBeLessThanOrEqual(33_000);
    }
    expect(client.state).toBe("Ready");
    await waitFor(() => client.stats().lastRttMs !== undefined, { what: "a heartbeat round trip" });
    expect(client.stats().averageRttMs).toBeGreaterThanOrEqual(0);
    await client.close();
  });
});
