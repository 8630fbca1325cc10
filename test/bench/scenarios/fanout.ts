import { randomUUID } from "node:crypto";
import { encodeFrame } from "../../../gateway/server-frames.js";
import type { ChatId, UserId } from "../../../runtime/ids.js";
import { toWireMessage } from "../../../runtime/message-wire.js";
import { LoadClients } from "../load/clients.js";
import { round, sleep, wallNow } from "../load/stats.js";
import { bareTargets, clock, contentOf, ids, startBareServer, startEmbedded } from "../load/systems.js";
import { onTimetable } from "../load/timetable.js";
import { figure, type Scenario, type ScenarioContext, type ScenarioResult } from "../scenario.js";

/**
 * Fanout: messages persisted on the embedded platform and pushed to 1,000 online WebSocket clients, against
 * a bare `ws` server pushing frames of the same size to 1,000 bare clients on the same timetable.
 *
 * The 1,000 clients are the members of 20 group chats of 50: groups hold at most 100 members (D9) and a
 * chat of up to 50 goes to every online member at once (larger ones are paced by design), so this is the
 * largest audience the default configuration pushes to without pacing. Each message goes to the 50 members
 * of one chat, chats in turn; the baseline sends each frame to the 50 sockets of one group, groups in turn.
 *
 * Latency runs from the moment a message is persisted (its persist call resolved: ACK = durability, D1) to
 * its arrival at a client; for the baseline from the moment the server starts sending the frame. Both
 * times are wall-clock readings of one machine, taken in two processes (the clients run in a child).
 */

const TARGET_P99_RATIO = 3;
const CHATS = 20;
const MEMBERS = 50;
const CONTENT_BYTES = 100;

interface Run {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly deliveredPerSecond: number;
  readonly deliveries: number;
  readonly expected: number;
  readonly lateSends: number;
}

export const scenario: Scenario = {
  name: "fanout",
  title: "Fanout: persisted -> delivered to 1,000 online clients vs a bare ws broadcast",
  // Storage in a process of its own, as the cluster has it: this process measures the planes under test.
  engines: ["dynamodb"],
  async run(context: ScenarioContext): Promise<ScenarioResult> {
    const ratePerSecond = 100;
    const durationMs = context.quick ? 3_000 : 10_000;
    const clients = new LoadClients();
    try {
      context.progress(
        `fanout: ${CHATS} chats x ${MEMBERS} online members, ${ratePerSecond} msg/s (${ratePerSecond * MEMBERS} deliveries/s) for ${durationMs / 1000} s`,
      );
      // A short warm-up of each (JIT, first activations), not counted.
      await bareRun(context, clients, ratePerSecond, 1_000);
      const baseline = await bareRun(context, clients, ratePerSecond, durationMs);
      const platform = await platformRun(context, clients, ratePerSecond, durationMs);
      const met = platform.p99Ms <= TARGET_P99_RATIO * baseline.p99Ms;
      const label = "bare ws broadcast of same-sized frames, same timetable";
      return {
        figures: [
          figure({
            name: "fanout.latency.p99",
            value: platform.p99Ms,
            unit: "ms",
            baseline: baseline.p99Ms,
            baselineLabel: label,
            target: `<= ${TARGET_P99_RATIO} x baseline`,
            met,
          }),
          figure({
            name: "fanout.latency.p50",
            value: platform.p50Ms,
            unit: "ms",
            baseline: baseline.p50Ms,
            baselineLabel: label,
            target: null,
          }),
          figure({
            name: "fanout.latency.p999",
            value: platform.p999Ms,
            unit: "ms",
            baseline: baseline.p999Ms,
            baselineLabel: label,
            target: null,
          }),
          figure({
            name: "fanout.delivered_per_second",
            value: platform.deliveredPerSecond,
            unit: "msg/s",
            baseline: baseline.deliveredPerSecond,
            baselineLabel: label,
            target: null,
          }),
        ],
        details: {
          clients: CHATS * MEMBERS,
          chats: CHATS,
          membersPerChat: MEMBERS,
          offeredMessagesPerSecond: ratePerSecond,
          offeredDeliveriesPerSecond: ratePerSecond * MEMBERS,
          durationMs,
          contentBytes: CONTENT_BYTES,
          platform,
          baseline,
          latencyFrom:
            "platform: the persist call resolved (durable); baseline: the server starts sending the frame",
          machine: "clients in one child process; server, sender and engines share the same 2 cores",
        },
      };
    } finally {
      await clients.stop();
    }
  },
};

async function bareRun(
  context: ScenarioContext,
  clients: LoadClients,
  ratePerSecond: number,
  durationMs: number,
): Promise<Run> {
  const server = await startBareServer({ relay: false });
  try {
    const chats: ChatId[] = Array.from({ length: CHATS }, () => ids.chat());
    const sender = ids.user();
    const connected = await clients.connect(
      "bare",
      bareTargets(server.url, CHATS * MEMBERS, (index) => chats[Math.floor(index / MEMBERS)] as string),
      { waitFirstFrame: false, record: "keyed" },
    );
    context.progress(`  bare ws: ${connected.connected} clients in ${round(connected.elapsedMs, 0)} ms`);
    const reference: Record<string, number> = {};
    const content = contentOf(CONTENT_BYTES);
    const schedule = await onTimetable(ratePerSecond, durationMs, (index) => {
      const chatId = chats[index % CHATS] as ChatId;
      const sequence = Math.floor(index / CHATS) + 1;
      const now = clock.now();
      const frame = encodeFrame(
        {
          type: "message",
          payload: toWireMessage({
            chatId,
            sequence: sequence as never,
            messageId: ids.message(),
            senderId: sender,
            clientMessageId: "",
            content,
            contentType: "text/plain",
            createdAt: now,
          }),
        },
        now,
      );
      reference[`${chatId}#${sequence}`] = wallNow();
      for (const socket of server.groups.get(chatId) ?? []) socket.send(frame);
    });
    return await finish(context, clients, "bare ws", reference, schedule, "bare");
  } finally {
    await server.stop();
  }
}

async function platformRun(
  context: ScenarioContext,
  clients: LoadClients,
  ratePerSecond: number,
  durationMs: number,
): Promise<Run> {
  const platform = await startEmbedded(context.env, { WS_MAX_CONNECTIONS_PER_IP: "1000000" });
  try {
    const ingest = platform.embedded?.ingest;
    if (ingest === undefined) throw new Error("the embedded platform has no ingest plane");
    const members: UserId[][] = Array.from({ length: CHATS }, () =>
      Array.from({ length: MEMBERS }, () => ids.user()),
    );
    const chats = await Promise.all(members.map((group) => platform.chat(group)));
    const started = performance.now();
    const connected = await clients.connect("platform", await platform.targets(members.flat()), {
      waitFirstFrame: true,
      record: "keyed",
    });
    context.progress(
      `  platform: ${connected.connected} clients in ${round(performance.now() - started, 0)} ms (${connected.failed} failed)`,
    );
    const content = contentOf(CONTENT_BYTES);
    // Warm-up: one message per chat activates its sequencer and fills fanout's member cache.
    const warm: Record<string, number> = {};
    await Promise.all(
      chats.map(async (chatId, index) => {
        const result = await ingest.persist({
          chatId,
          senderId: members[index]?.[0] as UserId,
          clientMessageId: randomUUID(),
          content,
          contentType: "text/plain",
        });
        warm[`${chatId}#${result.sequence}`] = wallNow();
      }),
    );
    await clients.expect(CHATS * MEMBERS, 15_000);
    await clients.latencies(warm);

    const reference: Record<string, number> = {};
    let failures = 0;
    const schedule = await onTimetable(ratePerSecond, durationMs, (index) => {
      const chat = index % CHATS;
      ingest
        .persist({
          chatId: chats[chat] as ChatId,
          senderId: members[chat]?.[0] as UserId,
          clientMessageId: randomUUID(),
          content,
          contentType: "text/plain",
        })
        .then(
          (result) => {
            reference[`${chats[chat]}#${result.sequence}`] = wallNow();
          },
          () => failures++,
        );
    });
    const run = await finish(context, clients, "platform", reference, schedule, "platform");
    if (failures > 0) context.progress(`  platform: ${failures} persist calls failed`);
    return run;
  } finally {
    await clients.close("platform");
    await platform.stop();
  }
}

async function finish(
  context: ScenarioContext,
  clients: LoadClients,
  label: string,
  reference: Record<string, number>,
  schedule: { calls: number; late: number; startedAt: number },
  group: string,
): Promise<Run> {
  const expected = schedule.calls * MEMBERS;
  const arrived = await clients.expect(expected, 30_000);
  // Let the last persist calls record their times before the latencies are computed.
  await sleep(50);
  const result = await clients.latencies(reference);
  await clients.close(group);
  const spanMs = result.lastReceiveAt - schedule.startedAt;
  const run: Run = {
    p50Ms: result.latencies.p50Ms,
    p99Ms: result.latencies.p99Ms,
    p999Ms: result.latencies.p999Ms,
    deliveredPerSecond: round((result.matched * 1000) / spanMs, 0),
    deliveries: result.matched,
    expected,
    lateSends: schedule.late,
  };
  context.progress(
    `  ${label}: ${arrived.received}/${expected} delivered${arrived.complete ? "" : " (timed out)"}, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, p999 ${run.p999Ms} ms, ${run.deliveredPerSecond} deliveries/s`,
  );
  return run;
}
