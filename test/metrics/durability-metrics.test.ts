import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IngestService } from "../../actors/chat-sequencer/ingest-service.js";
import type { ChatId, UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { Metrics } from "../../runtime/metrics/metrics.js";
import { actorRecorder, durabilityRecorder } from "../../runtime/metrics/recorders.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { type IngestFixture, ingestFixture } from "../support/ingest-fixture.js";
import { waitFor } from "../support/wait-for.js";
import { parseExposition, sampleValue } from "./exposition.js";

const dynamodb = engineEndpoint("dynamodb");
const IDLE_MS = 60_000;

/**
 * The durability plane's counters on the real storage: two ingest runtimes (two "nodes", each with its own
 * Metrics) holding one chat at once, as after a failover, with the ManualClock driving their idle timers.
 */
describe.skipIf(!dynamodb)("durability metrics", () => {
  let fixture: IngestFixture;
  const services: IngestService[] = [];

  beforeAll(async () => {
    fixture = await ingestFixture({ dynamodb: dynamodb ?? "" });
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.shutdown()));
    await fixture?.cleanup();
  });

  const node = (name: string) => {
    const metrics = new Metrics({ instance: name, role: "ingest" });
    const service = new IngestService({
      messageStore: fixture.messageStore,
      chatStore: fixture.chatStore,
      eventLog: fixture.eventLog,
      clock: fixture.clock,
      ids: fixture.ids,
      logger: createLogger({ level: "silent" }),
      producerId: name,
      idleTimeoutMs: IDLE_MS,
      metrics: { durability: durabilityRecorder(metrics), actors: actorRecorder(metrics) },
    });
    services.push(service);
    return { service, metrics, scrape: async () => parseExposition(await metrics.scrape()) };
  };

  const send = (service: IngestService, chatId: ChatId, senderId: UserId, clientMessageId: string) =>
    service.persist({ chatId, senderId, clientMessageId, content: "hi", contentType: "text/plain" });

  it("counts a fencing conflict on the owner whose sequence was taken, and only there", async () => {
    const a = node(uniqueName("node-a-"));
    const b = node(uniqueName("node-b-"));
    const alice = fixture.ids.user();
    const chatId = await fixture.chatWith([alice]);
    // Both activate on the empty chat: each believes the tail is 0.
    expect(await a.service.wake(chatId)).toEqual({ tail: 0 });
    expect(await b.service.wake(chatId)).toEqual({ tail: 0 });

    expect((await send(a.service, chatId, alice, "from-a")).sequence).toBe(1);
    // B places its send at 1 too, finds it taken (the conditional write refuses), reloads and takes 2.
    expect((await send(b.service, chatId, alice, "from-b")).sequence).toBe(2);

    const [onA, onB] = [await a.scrape(), await b.scrape()];
    expect(sampleValue(onA, "durability_transaction_conflicts_total")).toBe(0);
    expect(sampleValue(onB, "durability_transaction_conflicts_total")).toBe(1);
    for (const samples of [onA, onB]) {
      expect(sampleValue(samples, "durability_messages_persisted_total")).toBe(1);
      expect(sampleValue(samples, "durability_persist_total", { status: "stored" })).toBe(1);
      expect(sampleValue(samples, "durability_actor_activations_total", { outcome: "activated" })).toBe(1);
    }
  });

  it("counts idempotency hits, refused sends by code, and passivation after idle", async () => {
    const c = node(uniqueName("node-c-"));
    const [alice, mallory] = [fixture.ids.user(), fixture.ids.user()];
    const chatId = await fixture.chatWith([alice]);
    const first = await send(c.service, chatId, alice, "once");
    const again = await send(c.service, chatId, alice, "once");
    expect(again).toMatchObject({ sequence: first.sequence, deduplicated: true });
    await expect(send(c.service, chatId, mallory, "intruder")).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
    });

    let samples = await c.scrape();
    expect(sampleValue(samples, "durability_persist_total", { status: "stored" })).toBe(1);
    expect(sampleValue(samples, "durability_persist_total", { status: "deduplicated" })).toBe(1);
    expect(sampleValue(samples, "durability_persist_total", { status: "not_a_member" })).toBe(1);
    expect(sampleValue(samples, "durability_idempotency_hits_total")).toBe(1);
    expect(sampleValue(samples, "durability_persist_duration_seconds_count")).toBe(2);
    expect(sampleValue(samples, "durability_actor_passivations_total", { reason: "idle" })).toBe(0);

    fixture.clock.advance(IDLE_MS);
    samples = await waitFor(
      async () => {
        const now = await c.scrape();
        return sampleValue(now, "durability_actor_passivations_total", { reason: "idle" }) === 1
          ? now
          : undefined;
      },
      { what: "the idle sequencer passivated" },
    );
    expect(sampleValue(samples, "durability_actor_passivations_total", { reason: "crashed" })).toBe(0);
    expect(c.service.host.activeKeys()).toEqual([]);
  });
});
