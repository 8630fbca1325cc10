import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../runtime/clock.js";
import { waitFor } from "../support/wait-for.js";
import { seededRandom } from "./backoff.js";
import { type ClientOptions, MessagingClient } from "./client.js";
import { emptySync, type ScriptedServer, scriptedServer } from "./scripted-server.js";
import type { ClientFrame } from "./wire.js";

const CHAT = "chat_01HQZZZZZZZZZZZZZZZZZZZZZZ";

/**
 * Server behaviours the real gateway cannot be made to show on demand, from a scripted WebSocket server:
 * refusals the gateway never sends (403, token_revoked), error codes its durability plane does not produce here
 * (FORBIDDEN, INTERNAL_ERROR, NOT_FOUND), frames of unknown types, a slow `connection_established`.
 */
describe("reference client against a scripted server", () => {
  let server: ScriptedServer;
  let dir: string;
  let clock: ManualClock;
  const clients: MessagingClient[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "harness-scripted-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    server = await scriptedServer();
    clock = new ManualClock(Date.UTC(2026, 10, 27));
    server.onFrame((connection, frame) => {
      if (frame.type === "sync_request") emptySync(connection, frame);
    });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.abandon();
    await server.close();
  });

  const forced = { count: 0 };
  function client(options: Partial<ClientOptions> = {}): { client: MessagingClient; sent: ClientFrame[] } {
    forced.count = 0;
    const made = new MessagingClient({
      url: server.url,
      clock,
      random: seededRandom(1),
      stateFile: join(dir, `${randomUUID()}.json`),
      tokens: {
        getToken: async ({ forceRefresh }) => {
          if (forceRefresh) forced.count++;
          return { accessToken: `token-${forced.count}` };
        },
      },
      ...options,
    });
    const sent: ClientFrame[] = [];
    made.on("sent", (frame) => sent.push(frame));
    clients.push(made);
    return { client: made, sent };
  }

  /** Answers each send_message with the given error codes in turn, then acks. */
  function answerSends(codes: string[]): void {
    let sequence = 0;
    server.onFrame((connection, frame) => {
      if (frame.type === "sync_request") return emptySync(connection, frame);
      if (frame.type !== "send_message") return;
      const code = codes.shift();
      if (code !== undefined) {
        connection.send({ type: "error", request_id: frame.request_id, payload: { code, message: code } });
        return;
      }
      connection.send({
        type: "send_message_ack",
        request_id: frame.request_id,
        payload: {
          client_message_id: frame.payload.client_message_id,
          message_id: `msg_${randomUUID()}`,
          chat_id: frame.payload.chat_id,
          sequence: ++sequence,
          created_at: new Date().toISOString(),
        },
      });
    });
  }

  it("CL-01, CL-02: the JWT goes in Authorization: Bearer and a stable device id in X-Device-ID", async () => {
    const { client: c } = client({ deviceId: "device-7" });
    await c.connect();
    const request = server.connections[0]?.request;
    expect(request?.headers.authorization).toBe("Bearer token-0");
    expect(request?.headers["x-device-id"]).toBe("device-7");
  });

  it("CL-01, CL-02 fallback: credentials in the query string when headers are impossible", async () => {
    const { client: c } = client({ deviceId: "device-8", credentialsInQuery: true });
    await c.connect();
    const url = new URL(server.connections[0]?.request.url ?? "", "http://x");
    expect(url.searchParams.get("token")).toBe("token-0");
    expect(url.searchParams.get("device_id")).toBe("device-8");
    expect(server.connections[0]?.request.headers.authorization).toBeUndefined();
  });

  it("CL-02: the device id is kept in the state file and reused by a restarted client", async () => {
    const stateFile = join(dir, "stable-device.json");
    const first = client({ stateFile });
    await first.client.connect();
    await first.client.close();
    const second = client({ stateFile });
    expect(second.client.deviceId).toBe(first.client.deviceId);
  });

  it("CL-03: nothing is sent before connection_established, even with sends queued", async () => {
    server.onConnection(() => {});
    const { client: c, sent } = client({ chats: [CHAT] });
    void c.send(CHAT, "early").catch(() => {});
    void c.connect();
    await waitFor(() => server.connections.length === 1, { what: "the socket" });
    // The client handles its open socket (where an early frame would go out) before it can answer a ping.
    await server.connections[0]?.roundTrip();
    await server.connections[0]?.roundTrip();
    expect(c.state).toBe("Authenticating");
    expect(server.connections[0]?.frames).toEqual([]);
    expect(sent).toEqual([]);
    server.connections[0]?.establish();
    await waitFor(() => sent.length >= 1, { what: "the first frame" });
    expect(sent[0]?.type).toBe("sync_request");
  });

  it("403: a refused upgrade is never retried", async () => {
    server.refuseWith(() => ({ status: 403, body: { error: "forbidden", message: "no" } }));
    const { client: c } = client();
    await expect(c.connect()).rejects.toMatchObject({ code: "OFFLINE" });
    expect(c.connectivity).toBe("offline");
    clock.advance(120_000);
    expect(server.upgrades).toBe(1);
  });

  it("401 token_revoked: the client stays offline (a new login is needed)", async () => {
    server.refuseWith(() => ({ status: 401, body: { error: "token_revoked", message: "revoked" } }));
    const { client: c } = client();
    await expect(c.connect()).rejects.toMatchObject({ code: "OFFLINE" });
    clock.advance(120_000);
    expect(server.upgrades).toBe(1);
  });

  it("400 invalid_request: a client bug, not retried", async () => {
    server.refuseWith(() => ({ status: 400, body: { error: "invalid_request", message: "bad" } }));
    const { client: c } = client();
    await expect(c.connect()).rejects.toMatchObject({ code: "OFFLINE" });
    expect(server.upgrades).toBe(1);
  });

  it("401 twice: the first is retried at once with a refreshed token, the next backs off", async () => {
    server.refuseWith(() => ({ status: 401, body: { error: "invalid_token", message: "bad" } }));
    const { client: c } = client();
    const delays: number[] = [];
    c.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
    void c.connect();
    await waitFor(() => delays.length === 1, { what: "the backoff after the second 401" });
    expect(server.upgrades).toBe(2);
    // The second upgrade carried a refreshed token (one forced refresh so far).
    expect(forced.count).toBe(1);
    expect(delays[0]).toBeGreaterThanOrEqual(750);
    expect(delays[0]).toBeLessThanOrEqual(1_250);
  });

  it("429 rate_limited at upgrade: waits retry_after_seconds", async () => {
    let refusals = 1;
    server.refuseWith(() =>
      refusals-- > 0
        ? {
            status: 429,
            body: { error: "rate_limited", message: "slow down", details: { retry_after_seconds: 30 } },
          }
        : undefined,
    );
    const { client: c } = client();
    const delays: number[] = [];
    c.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
    const ready = c.connect();
    await waitFor(() => delays.length === 1, { what: "the wait" });
    expect(delays).toEqual([30_000]);
    clock.advance(30_000);
    await ready;
  });

  it("EH-04: 503 at upgrade is transient and retried with backoff", async () => {
    let refusals = 2;
    server.refuseWith(() =>
      refusals-- > 0 ? { status: 503, body: { error: "service_unavailable", message: "later" } } : undefined,
    );
    const { client: c } = client();
    const delays: number[] = [];
    c.on("reconnect_scheduled", ({ delayMs }) => delays.push(delayMs));
    const ready = c.connect();
    await waitFor(() => delays.length === 1, { what: "first backoff" });
    clock.advance(delays[0] ?? 0);
    await waitFor(() => delays.length === 2, { what: "second backoff" });
    expect(delays[1]).toBeGreaterThanOrEqual(1_500);
    clock.advance(delays[1] ?? 0);
    await ready;
  });

  it("EH-02: frames of unknown types are logged and skipped; the session carries on", async () => {
    const warnings: string[] = [];
    const { client: c } = client({
      logger: {
        debug: () => {},
        info: () => {},
        error: () => {},
        warn: (_, message) => warnings.push(message),
      },
    });
    const unknown: string[] = [];
    c.on("unknown_frame", ({ type }) => unknown.push(type));
    answerSends([]);
    await c.connect();
    server.connections[0]?.send({ type: "reaction_added", payload: { emoji: "👍" } });
    server.connections[0]?.socket.send("{not json");
    await waitFor(() => unknown.length === 1, { what: "the unknown frame" });
    expect(unknown).toEqual(["reaction_added"]);
    expect(warnings).toContain("unknown frame type ignored");
    expect((await c.send(CHAT, "still works")).sequence).toBe(1);
  });

  for (const code of ["FORBIDDEN", "INVALID_MESSAGE", "MESSAGE_TOO_LARGE", "INVALID_CONTENT_TYPE"]) {
    it(`EH-01, RS-04: ${code} on a send is surfaced and never retried`, async () => {
      answerSends([code]);
      const { client: c, sent } = client();
      await c.connect();
      await expect(c.send(CHAT, "no")).rejects.toMatchObject({ code });
      clock.advance(120_000);
      expect(sent.filter((frame) => frame.type === "send_message")).toHaveLength(1);
      expect(c.pendingSends()).toEqual([]);
    });
  }

  it("EH-01 NOT_FOUND on a send drops the chat and is not retried", async () => {
    answerSends(["NOT_FOUND"]);
    const { client: c } = client({ chats: [CHAT] });
    await c.connect();
    await expect(c.send(CHAT, "gone")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(c.droppedReason(CHAT)).toBe("NOT_FOUND");
  });

  it("EH-01 INTERNAL_ERROR: retried with backoff, 3 tries, then surfaced", async () => {
    answerSends(["INTERNAL_ERROR", "INTERNAL_ERROR", "INTERNAL_ERROR"]);
    const { client: c, sent } = client();
    await c.connect();
    const failed = c.send(CHAT, "doomed");
    failed.catch(() => {});
    const retries: number[] = [];
    c.on("send_retry", ({ delayMs }) => retries.push(delayMs));
    await waitFor(() => retries.length === 1, { what: "first retry" });
    clock.advance(retries[0] ?? 0);
    await waitFor(() => retries.length === 2, { what: "second retry" });
    clock.advance(retries[1] ?? 0);
    await expect(failed).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
    const ids = sent.flatMap((frame) =>
      frame.type === "send_message" ? [frame.payload.client_message_id] : [],
    );
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it("EH-04: SERVICE_UNAVAILABLE on a send is retried with growing backoff until it lands", async () => {
    answerSends(["SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE", "SERVICE_UNAVAILABLE"]);
    const { client: c } = client();
    await c.connect();
    const acked = c.send(CHAT, "eventually");
    const retries: number[] = [];
    c.on("send_retry", ({ delayMs }) => retries.push(delayMs));
    for (let attempt = 0; attempt < 4; attempt++) {
      await waitFor(() => retries.length === attempt + 1, { what: `retry ${attempt + 1}` });
      clock.advance(retries[attempt] ?? 0);
    }
    expect((await acked).sequence).toBe(1);
    expect(retries[3]).toBeGreaterThan(retries[0] ?? 0);
  });

  it("RS-04: NOT_A_MEMBER on a sync drops the chat and the client still becomes Ready", async () => {
    server.onFrame((connection, frame) => {
      if (frame.type === "sync_request") {
        connection.send({
          type: "error",
          request_id: frame.request_id,
          payload: { code: "NOT_A_MEMBER", message: "not a member" },
        });
      }
    });
    const { client: c, sent } = client({ chats: [CHAT] });
    await c.connect();
    expect(c.droppedReason(CHAT)).toBe("NOT_A_MEMBER");
    clock.advance(60_000);
    expect(sent.filter((frame) => frame.type === "sync_request")).toHaveLength(1);
  });

  it("EH-01 UNAUTHORIZED in session: refresh the token and reconnect without backoff", async () => {
    const { client: c } = client();
    await c.connect();
    server.connections[0]?.send({ type: "error", payload: { code: "UNAUTHORIZED", message: "expired" } });
    await waitFor(() => server.connections.length === 2 && c.state === "Ready", { what: "the reconnect" });
    expect(forced.count).toBe(1);
    expect(server.connections[1]?.request.headers.authorization).toBe("Bearer token-1");
  });

  it("a socket that drops without connection_closing is reconnected with backoff", async () => {
    const { client: c } = client();
    await c.connect();
    const delays: Array<{ delayMs: number; reason: string | null }> = [];
    c.on("reconnect_scheduled", (scheduled) => delays.push(scheduled));
    server.connections[0]?.socket.terminate();
    await waitFor(() => delays.length === 1, { what: "the backoff" });
    expect(delays[0]?.reason).toBe("connection_lost");
    clock.advance(delays[0]?.delayMs ?? 0);
    await waitFor(() => c.state === "Ready", { what: "Ready again" });
  });
});
