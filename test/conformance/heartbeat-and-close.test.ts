import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TopicReader } from "./support/kafka.js";
import { engineEnv, HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from "./support/platform.js";
import { call, login, newDevice, type User } from "./support/rest.js";
import { sleep } from "./support/wait.js";
import { World } from "./support/world.js";
import { ISO_MS, WsClient } from "./support/ws-client.js";

/**
 * spec/protocol.md §8 (heartbeat, ping/pong), §7 (`connection_closing` reasons), §3 (close codes), §11
 * (backpressure) and client-contract CL-04, CL-05, RS-03, server side. The timers and the outbound buffer are
 * shrunk through their documented variables so that each reason happens within seconds.
 */
const engines = engineEnv();
const HEARTBEAT_MS = 1_500;
const IDLE_MS = 2 * HEARTBEAT_MS;
const OUTBOUND_MESSAGES = 2;
const CLOSING_REASONS = [
  "server_shutdown",
  "idle_timeout",
  "rate_limited",
  "protocol_error",
  "duplicate_connection",
  "token_expired",
  // spec/planes-ops-security-testing.md "Revoke all sessions": the reason a revoked session's sockets get.
  "session_revoked",
  "slow_consumer",
];

/** Heartbeats at 0.9x the announced interval (CL-04's ±10%) until stopped. */
function keepAlive(client: WsClient): () => void {
  const timer = setInterval(() => {
    if (client.socket.readyState === client.socket.OPEN) {
      client.send({ type: "heartbeat", payload: {} });
    }
  }, HEARTBEAT_MS * 0.9);
  return () => clearInterval(timer);
}

function expectClosing(payload: Record<string, unknown>, reason: string) {
  expect(payload).toEqual(
    expect.objectContaining({ reason, message: expect.any(String), reconnect_delay_ms: expect.any(Number) }),
  );
  expect(payload.reconnect_delay_ms as number).toBeGreaterThan(0);
}

describe.skipIf(!engines)(
  "conformance: heartbeat and connection closing (protocol §7, §8)",
  { timeout: TEST_TIMEOUT_MS },
  () => {
    let world: World;
    let alice: User;
    let bob: User;
    const stops: Array<() => void> = [];

    beforeAll(async () => {
      world = await World.start({
        env: {
          WS_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
          WS_IDLE_TIMEOUT_MS: String(IDLE_MS),
          WS_OUTBOUND_MAX_MESSAGES: String(OUTBOUND_MESSAGES),
          WS_SLOW_CONSUMER_GRACE_MS: "500",
          WS_SEND_PER_CHAT_PER_S: "100000",
          WS_SEND_PER_CHAT_BURST: "100000",
          WS_SEND_PER_CONNECTION_PER_S: "100000",
        },
      });
      [alice, bob] = (await world.users(2)) as [User, User];
    }, HOOK_TIMEOUT_MS);

    afterAll(async () => {
      for (const stop of stops) stop();
      await world?.stop();
    }, HOOK_TIMEOUT_MS);

    const live = async (user: User, deviceId?: string) => {
      const client = await world.connect(user, deviceId);
      stops.push(keepAlive(client));
      return client;
    };

    it("§5/§8: connection_established announces heartbeat_interval_ms (the configured period)", async () => {
      const client = await live(alice);
      expect(client.established.payload.heartbeat_interval_ms).toBe(HEARTBEAT_MS);
      client.close();
    });

    it("§8: heartbeat -> heartbeat_ack at once with server_time, echoing request_id", async () => {
      const client = await live(alice);
      const ack = await client.request("heartbeat", {}, "hb-1");
      expect(ack).toMatchObject({ type: "heartbeat_ack", request_id: "hb-1" });
      expect(ack.payload.server_time).toMatch(ISO_MS);
      client.close();
    });

    it("§8: RFC 6455 ping is answered with pong", async () => {
      const client = await live(alice);
      const pong = new Promise<string>((resolve) =>
        client.socket.once("pong", (data) => resolve(data.toString())),
      );
      client.socket.ping("liveness");
      expect(await pong).toBe("liveness");
      client.close();
    });

    it("§8 CL-04 heartbeat_interval_respected: heartbeats at the announced interval keep a connection open past the idle timeout", async () => {
      const client = await live(alice);
      await sleep(IDLE_MS * 2.5);
      expect(client.ofType("connection_closing")).toEqual([]);
      expect(client.closeInfo).toBeUndefined();
      expect((await client.request("heartbeat", {})).type).toBe("heartbeat_ack");
      client.close();
    });

    it("§7/§8 idle_timeout: no heartbeat for 2x the interval -> connection_closing{idle_timeout} (CL-05: with reconnect_delay_ms), then close", async () => {
      const client = await world.connect(alice);
      const closing = await client.next((f) => f.type === "connection_closing");
      expect(closing.request_id).toBeUndefined();
      expectClosing(closing.payload, "idle_timeout");
      const closed = await client.closed;
      expect(closed.code).not.toBe(1006);
    });

    it("§3/§7 duplicate_connection: the same device connecting again closes the older connection; the newer one serves", async () => {
      const device = newDevice();
      const older = await live(bob, device);
      const newer = await live(bob, device);
      const closing = await older.next((f) => f.type === "connection_closing");
      expectClosing(closing.payload, "duplicate_connection");
      await older.closed;
      expect((await newer.request("heartbeat", {})).type).toBe("heartbeat_ack");
      expect(newer.ofType("connection_closing")).toEqual([]);
      newer.close();
    });

    it("§3/§7 token_expired: a token whose exp passes during the session -> connection_closing{token_expired}, close 1008 (late auth failure)", async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await world.mint.token(alice.userId, { iatS: now - 1, ttlS: 4 });
      const client = await WsClient.connect(world.platform.wsUrl, { token, deviceId: newDevice() });
      stops.push(keepAlive(client));
      const closing = await client.next((f) => f.type === "connection_closing");
      expectClosing(closing.payload, "token_expired");
      expect((await client.closed).code).toBe(1008);
    });

    it("REST §2 session revoke MUST close that session's WebSockets: DELETE /sessions/{id} closes them with connection_closing", async () => {
      const phone = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
      const first = await login(world.baseUrl, phone);
      const second = await login(world.baseUrl, phone);
      const client = await live(first);
      const bystander = await live(second);
      const revoked = await call(world.baseUrl, "DELETE", `/api/v1/sessions/${first.sessionId}`, {
        token: second.accessToken,
      });
      expect(revoked.status).toBe(204);
      const closing = await client.next((f) => f.type === "connection_closing");
      expect(CLOSING_REASONS).toContain(closing.payload.reason);
      await client.closed;
      expect((await bystander.request("heartbeat", {})).type).toBe("heartbeat_ack");
      bystander.close();
    });

    it("§11 RS-03 slow_consumer_not_silent: a client whose buffer overflows gets SLOW_CONSUMER {buffer_size, buffer_limit}, then connection_closing{slow_consumer} and close 1008; nothing is lost", async () => {
      const chat = await world.chat(alice, bob);
      const sender = await live(alice);
      const reader = await live(bob);
      // The reader stops reading. With an outbound buffer of OUTBOUND_MESSAGES, the first fanout batch of more
      // messages than that for this connection overflows it (messages handed to a socket count until written).
      reader.socket.pause();
      const topics = new TopicReader(engines?.KAFKA_BROKERS ?? "");
      const mark = await topics.mark("messages.persisted");
      const total = 150;
      let acked = 0;
      // In windows: the gateway bounds a connection's requests in flight.
      for (let start = 0; start < total; start += 50) {
        const window = Array.from({ length: 50 }, (_, i) =>
          sender.sendMessage(chat, `flood ${start + i}`, randomUUID()),
        );
        for (const ack of await Promise.all(window)) if (ack.type === "send_message_ack") acked++;
      }
      expect(acked).toBe(total);
      // Fanout is asynchronous: once every message is published (published after its ack), wait until the
      // fanout group has handled all of it (its pushes are then at the gateway) before reading again.
      await topics.records("messages.persisted", mark, (records) => {
        return records.filter((record) => record.key === chat).length >= total;
      });
      await topics.consumedThrough(world.platform.fanoutGroup, "messages.persisted");
      reader.socket.resume();
      const closing = await reader.next((f) => f.type === "connection_closing");
      expectClosing(closing.payload, "slow_consumer");
      expect((await reader.closed).code).toBe(1008);
      const warning = reader.frames.find((f) => f.type === "error" && f.payload.code === "SLOW_CONSUMER");
      expect(warning).toBeDefined();
      expect(warning?.request_id).toBeUndefined();
      expect(warning?.payload.details).toMatchObject({
        buffer_size: expect.any(Number),
        buffer_limit: OUTBOUND_MESSAGES,
      });
      expect(reader.frames.indexOf(warning as never)).toBeLessThan(reader.frames.indexOf(closing));
      expect(reader.ofType("message").length).toBeLessThan(total);
      // Nothing is lost: the client that reconnects and syncs (RS-03) gets every message.
      const back = await live(bob);
      const page = await back.request("sync_request", { chat_id: chat, last_acked_sequence: 0, limit: 500 });
      expect((page.payload.messages as unknown[]).length).toBe(total);
      back.close();
      sender.close();
    });

    it("§7 server_shutdown: on SIGTERM every connection gets connection_closing{server_shutdown} and the process exits cleanly", async () => {
      const clients = await Promise.all([live(alice), live(bob)]);
      process.kill(world.platform.pid, "SIGTERM");
      for (const client of clients) {
        const closing = await client.next((f) => f.type === "connection_closing");
        expectClosing(closing.payload, "server_shutdown");
        const closed = await client.closed;
        expect(closed.code).not.toBe(1006);
      }
      expect(await world.platform.exited).toBe(0);
    });
  },
);
