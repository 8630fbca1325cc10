import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { IdFactory, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { METRICS, type MetricSpec } from "../../runtime/metrics/catalog.js";
import { createActiveChat } from "../support/chats.js";
import { uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { devLogin, WsPeer } from "../support/ws-peer.js";
import { familyOf, parseExposition, type Sample, sampleValue } from "./exposition.js";

const clock = new SystemClock();
const specs = Object.values(METRICS) as MetricSpec[];

/**
 * The embedded platform (every role in one process, dynalite on disk, the in-process log) driven over real
 * WebSockets, then scraped: every catalog metric is there with this process's `instance`, and the counters
 * moved by exactly what the traffic did.
 */
describe("GET /metrics of the embedded platform", () => {
  let platform: RunningPlatform;
  let dataDir: string;
  const peers: WsPeer[] = [];

  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(`${platform.internalUrl}/metrics`);
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "metrics-"));
    const config = loadConfig({
      env: {
        PORT: "0",
        DATA_DIR: dataDir,
        NODE_ID: uniqueName("metrics-"),
        // A third send in a row to one chat is refused: the rate-limited frame of the test.
        WS_SEND_PER_CHAT_PER_S: "1",
        WS_SEND_PER_CHAT_BURST: "2",
      },
    });
    platform = await startPlatform(config, createLogger({ level: "silent" }), clock);
  });

  afterAll(async () => {
    for (const peer of peers) peer.close();
    await platform?.stop(0);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers in the Prometheus text format with every catalog metric labelled with this instance", async () => {
    const response = await fetch(`${platform.internalUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const spec of specs) expect(text).toContain(`# TYPE ${spec.name} ${spec.type}\n`);
  });

  it("counts a send, its duplicate, a rate-limited frame, a push and an ack", async () => {
    const before = await scrape();
    const alice = await devLogin(platform.baseUrl, "+15550000001", "alice-phone");
    const bob = await devLogin(platform.baseUrl, "+15550000002", "bob-phone");
    const chatId = await createActiveChat(
      platform.adapters.chatStore,
      { ids: new IdFactory(clock), clock },
      [alice.userId as UserId, bob.userId as UserId],
      "metrics",
    );
    const alicePeer = await WsPeer.connect(platform.baseUrl, alice.accessToken, "alice-phone");
    const bobPeer = await WsPeer.connect(platform.baseUrl, bob.accessToken, "bob-phone");
    peers.push(alicePeer, bobPeer);

    const first = await alicePeer.sendMessage(chatId, "hello", "a4d1a2b6-3c55-4a0e-9d5e-8f5d0c2e1b01");
    const retried = await alicePeer.sendMessage(chatId, "hello", "a4d1a2b6-3c55-4a0e-9d5e-8f5d0c2e1b01");
    expect(retried.sequence).toBe(first.sequence);
    const limited = alicePeer.send("send_message", {
      chat_id: chatId,
      client_message_id: "a4d1a2b6-3c55-4a0e-9d5e-8f5d0c2e1b02",
      content: "one too many",
      content_type: "text/plain",
    });
    const refusal = await alicePeer.next((frame) => frame.request_id === limited);
    expect(refusal.payload.code).toBe("RATE_LIMITED");
    await bobPeer.next((frame) => frame.type === "message" && frame.payload.chat_id === chatId);
    bobPeer.send("ack", { chat_id: chatId, last_acked_sequence: first.sequence });

    // The ack is one-way and the fanout worker counts after its batch: both are waited for on the scrape.
    const after = await waitFor(
      async () => {
        const samples = await scrape();
        const acked = sampleValue(samples, "gateway_acks_total", { outcome: "stored" });
        const done = sampleValue(samples, "fanout_events_processed_total", { status: "done" });
        return acked >= 1 && done >= 1 ? samples : undefined;
      },
      { what: "the ack stored and the record done" },
    );
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);

    expect(moved("gateway_connections_total", { status: "accepted" })).toBe(2);
    expect(sampleValue(after, "gateway_connections_active")).toBe(2);
    expect(moved("gateway_messages_received_total", { type: "send_message" })).toBe(3);
    expect(moved("gateway_messages_received_total", { type: "ack" })).toBe(1);
    expect(moved("security_rate_limits_total", { endpoint: "send_message", limit_type: "rate" })).toBe(1);
    expect(moved("gateway_send_latency_seconds_count")).toBe(2);
    expect(moved("gateway_acks_total", { outcome: "stored" })).toBe(1);
    expect(moved("gateway_acks_total", { outcome: "failed" })).toBe(0);

    expect(moved("durability_persist_total", { status: "stored" })).toBe(1);
    expect(moved("durability_persist_total", { status: "deduplicated" })).toBe(1);
    expect(moved("durability_idempotency_hits_total")).toBe(1);
    expect(moved("durability_messages_persisted_total")).toBe(1);
    expect(moved("durability_persist_duration_seconds_count")).toBe(2);
    expect(moved("durability_transaction_conflicts_total")).toBe(0);
    expect(moved("durability_kafka_produce_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(moved("durability_actor_activations_total", { outcome: "activated" })).toBe(1);
    expect(sampleValue(after, "durability_actors_active")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "durability_outbox_lag_messages")).toBe(0);

    expect(moved("fanout_events_processed_total", { status: "done" })).toBe(1);
    // Bob's connection got the push; Alice's own connection is spared it (she has the ack).
    expect(moved("fanout_delivery_total", { status: "delivered" })).toBe(1);
    expect(moved("fanout_deliver_calls_total", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    const lag = after.filter((sample) => sample.name === "fanout_consumer_lag");
    expect(lag.length).toBeGreaterThanOrEqual(1);
    expect(lag.every((sample) => sample.value === 0 && /^\d+$/.test(sample.labels.partition ?? ""))).toBe(
      true,
    );

    expect(sampleValue(after, "placement_ring_version")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "placement_ring_owners")).toBe(1);

    // Every catalog metric has samples, each with this process's instance and role.
    for (const spec of specs) {
      const family = familyOf(after, spec.name);
      expect(family.length, spec.name).toBeGreaterThan(0);
      for (const sample of family) {
        expect(sample.labels.instance, spec.name).toBe(platform.config.nodeId);
        expect(sample.labels.role, spec.name).toBe("all");
      }
    }
    // No sample carries an id as a label value.
    const ids = [alice.userId, bob.userId, chatId, first.message_id];
    expect(
      after.filter((sample) => Object.values(sample.labels).some((value) => ids.includes(value))),
    ).toEqual([]);
  });

  it("follows the connections that go", async () => {
    const open = peers.filter((peer) => peer.closed === undefined);
    const [leaving] = open;
    if (leaving === undefined) throw new Error("the previous test left no connection");
    leaving.close();
    await waitFor(async () => sampleValue(await scrape(), "gateway_connections_active") === open.length - 1, {
      what: "one connection fewer",
    });
  });
});
