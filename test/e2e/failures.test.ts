import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, startLocalCluster } from "../../deploy/local/cluster.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import type { WsPeer } from "../support/ws-peer.js";
import {
  type Ack,
  arrivals,
  ClientView,
  connect,
  deliveredUpTo,
  expectStoredOnce,
  expectViewIsStored,
  type FailureStack,
  groupOf,
  history,
  type Person,
  percentiles,
  person,
  range,
  rawPushes,
  signalsOf,
  sleep,
  TrackedSender,
  tcpOf,
} from "./failures.js";

/**
 * The failure scenarios of spec/protocol.md §14 on the local multi-process cluster: two gateways, two ingest
 * nodes, a fanout worker and chat management, each its own process, on dynalite, Redis and Kafka. Users are
 * placed on chosen gateways; a send is retried through the other gateway, a client stops reading, a gateway
 * is SIGKILLed under a burst. (Stale reconnect and disconnect-before-ack run in cluster.test.ts.)
 */
const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

const A = "gateway-1";
const B = "gateway-2";
/**
 * The gateways' push buffer per connection: 64 messages (the default is 1,000), and bytes enough that the
 * message limit is the one reached by the ~24 KB pushes of the slow-consumer test.
 */
const OUTBOUND_MAX_MESSAGES = 64;
const OUTBOUND_MAX_BYTES = 2 * 1024 * 1024;

describe.skipIf(!dynamodb || !redisUrl || !kafka)("failures on the local cluster (L3)", () => {
  let cluster: LocalCluster;
  let redis: Redis;
  let dataDir: string;
  let stack: FailureStack;
  const tablePrefix = uniqueName("failures_");

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "cluster-failures-"));
    redis = new Redis(redisUrl ?? "", { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    cluster = await startLocalCluster({
      shape: { gateways: 2, ingest: 2, fanout: 1, chatmgmt: 1 },
      engines: { DYNAMODB_ENDPOINT: dynamodb ?? "", REDIS_URL: redisUrl ?? "", KAFKA_BROKERS: kafka ?? "" },
      dataDir,
      entryPort: 0,
      tablePrefix,
      env: {
        NODE_TTL_MS: "1500",
        RING_REFRESH_MS: "200",
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: "2000",
        OTP_REQUESTS_PER_IP: "100000",
        OTP_VERIFIES_PER_IP: "100000",
        FANOUT_GROUP: uniqueName("fanout-failures-"),
        WS_OUTBOUND_MAX_MESSAGES: String(OUTBOUND_MAX_MESSAGES),
        WS_OUTBOUND_MAX_BYTES: String(OUTBOUND_MAX_BYTES),
        WS_SLOW_CONSUMER_GRACE_MS: "2000",
        // The bursts below are about fanout and buffers, not about the send rate limits.
        WS_SEND_PER_CHAT_PER_S: "10000",
        WS_SEND_PER_CHAT_BURST: "10000",
        WS_SEND_PER_CONNECTION_PER_S: "10000",
        // A push skipped because a busy machine made one Deliver call slow would pass for harm done by the
        // slow consumer: the budget is generous here, so that a skipped push means something.
        FANOUT_DELIVER_TIMEOUT_MS: "10000",
      },
      // Six processes compiling TypeScript at once start slowly on a busy machine.
      startTimeoutMs: 180_000,
    });
    stack = { entryUrl: cluster.entryUrl, kafkaBrokers: kafka ?? "", cluster, redis, tablePrefix };
  }, 400_000);

  afterAll(async () => {
    await cluster?.stop();
    redis?.disconnect();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it("a send retried through the other gateway (after a timeout, and after a drop in flight) is stored once, acked with the same sequence and message_id both times, and pushed once", async () => {
    const [alice, bob, carol] = [
      await person(stack, "dup-a"),
      await person(stack, "dup-b"),
      await person(stack, "dup-c"),
    ];
    const chatId = await groupOf(stack, alice, [bob, carol]);
    const b = await connect(stack, bob, B);
    const c = await connect(stack, carol, A);
    const peers: WsPeer[] = [b, c];
    try {
      // 1. The send "times out": the frame reached gateway A and the message was stored (bob is pushed it),
      // but the client gave up on that connection. It reconnects through gateway B and resends.
      const x = randomUUID();
      const first = await connect(stack, alice, A);
      peers.push(first);
      const firstRequest = first.send("send_message", {
        chat_id: chatId,
        client_message_id: x,
        content: "timed out, sent again",
        content_type: "text/plain",
      });
      await waitFor(() => b.pushed(chatId).length >= 1, { timeoutMs: 30_000, what: "the first push" });
      const second = new TrackedSender(await connect(stack, alice, B));
      peers.push(second.peer);
      const resent = await second.send(chatId, "timed out, sent again", x);
      expect(resent).toMatchObject({ sequence: 1, client_message_id: x });
      // The answer the client no longer waited for names the same message (unless the gateway's own budget
      // ran out first on a busy machine: then it is the retryable SERVICE_UNAVAILABLE).
      const firstAnswer = await first.next((frame) => frame.request_id === firstRequest, 30_000);
      const firstAck =
        firstAnswer.type === "send_message_ack" ? (firstAnswer.payload as unknown as Ack) : undefined;
      if (firstAck === undefined) expect(firstAnswer.payload.code).toBe("SERVICE_UNAVAILABLE");
      else expect(firstAck).toMatchObject({ sequence: 1, message_id: resent?.message_id });
      // The device's older connection, on the other gateway, is closed by the newer one.
      const closing = await first.next((frame) => frame.type === "connection_closing", 30_000);
      expect(closing.payload.reason).toBe("duplicate_connection");

      // 2. The socket drops as soon as the frame has left; the resend through gateway A races the first.
      const y = randomUUID();
      const frame = JSON.stringify({
        type: "send_message",
        request_id: randomUUID(),
        payload: {
          chat_id: chatId,
          client_message_id: y,
          content: "dropped in flight",
          content_type: "text/plain",
        },
      });
      // The callback runs once the kernel has the frame.
      await new Promise<void>((resolve) => second.peer.socket.send(frame, () => resolve()));
      second.peer.socket.terminate();
      const third = new TrackedSender(await connect(stack, alice, A));
      peers.push(third.peer);
      const again = await third.send(chatId, "dropped in flight", y);
      expect(again).toMatchObject({ sequence: 2, client_message_id: y });

      const stored = await history(stack, bob, chatId);
      const sent = new Map([
        [x, "timed out, sent again"],
        [y, "dropped in flight"],
      ]);
      expectStoredOnce(
        stored,
        sent,
        [firstAck, resent, again].filter((ack) => ack !== undefined),
      );
      for (const [who, peer] of [
        ["bob", b],
        ["carol", c],
      ] as const) {
        await waitFor(() => peer.pushed(chatId).length === 2, { timeoutMs: 30_000, what: `${who}'s pushes` });
        expect(
          rawPushes(peer, chatId).map((m) => m.message_id),
          `${who} is pushed each message once`,
        ).toEqual(stored.map((m) => m.message_id));
      }
    } finally {
      for (const peer of peers) peer.socket.terminate();
    }
  }, 120_000);

  it("a member that stops reading is warned and closed as a slow consumer without holding back the others, and heals by reconnect and sync", async () => {
    const people = await Promise.all(["slow-s", "slow-p", "slow-f1", "slow-f2"].map((d) => person(stack, d)));
    const [sender, slowUser, fastUser1, fastUser2] = people as [Person, Person, Person, Person];
    const chatId = await groupOf(stack, sender, [slowUser, fastUser1, fastUser2]);
    const out = new TrackedSender(await connect(stack, sender, B));
    const slow = await connect(stack, slowUser, A);
    const fast1 = await connect(stack, fastUser1, A);
    const fast2 = await connect(stack, fastUser2, B);
    const peers = [out.peer, slow, fast1, fast2];
    try {
      // The gateway removes a connection's routing entry as it starts closing it: the one sign of the close
      // that reaches us while the client is not reading. It must be there first.
      const routingKey = `${tablePrefix}routing:connection:${String(slow.frames[0]?.payload.connection_id)}`;
      expect(await redis.exists(routingKey), "the slow connection's routing entry").toBe(1);
      const arrived1 = arrivals(fast1, chatId);
      const arrived2 = arrivals(fast2, chatId);
      tcpOf(slow).pause();

      // Messages until the slow connection is being closed, then a tail that the slow client can only get by
      // sync; bounded either way. The kernel's socket buffers on loopback take about 4 MB before the gateway's
      // buffer fills: U+0001, which JSON escapes to six bytes, makes each push about 24 KB on the wire, so a
      // couple of hundred messages do it instead of a thousand plain 4 KB ones.
      const content = "\u0001".repeat(4_000);
      const sent = new Map<string, string>();
      const acks: Ack[] = [];
      const sentAt = new Map<number, number>();
      let limit = 1_500;
      let next = 0;
      let closingAfter: number | undefined;
      const watcher = async () => {
        while (next < limit) {
          if ((await redis.exists(routingKey)) === 0) {
            // Read again at once: the gateway terminates a close handshake not answered within 5 s.
            tcpOf(slow).resume();
            closingAfter = acks.length;
            limit = Math.min(limit, next + 20);
            return;
          }
          await sleep(20);
        }
      };
      const lane = async () => {
        while (next < limit) {
          const clientMessageId = randomUUID();
          const text = `${next++} ${content}`;
          sent.set(clientMessageId, text);
          const startedAt = Date.now();
          const ack = await out.send(chatId, text, clientMessageId);
          if (ack === undefined) throw new Error("the sender's connection closed");
          acks.push(ack);
          sentAt.set(ack.sequence, startedAt);
        }
      };
      const startedAt = Date.now();
      await Promise.all([watcher(), ...Array.from({ length: 8 }, lane)]);
      const sendMs = Date.now() - startedAt;
      if (closingAfter === undefined)
        throw new Error(`the slow consumer was not closed after ${limit} messages`);
      const total = acks.length;

      expect(await waitFor(() => slow.closed, { timeoutMs: 30_000, what: "the close" })).toEqual({
        code: 1008,
        reason: "slow_consumer",
      });
      const signals = signalsOf(slow);
      expect(signals.map((f) => f.type)).toEqual(["connection_established", "error", "connection_closing"]);
      expect(signals[1]?.payload).toMatchObject({
        code: "SLOW_CONSUMER",
        details: { buffer_limit: OUTBOUND_MAX_MESSAGES, buffer_bytes_limit: OUTBOUND_MAX_BYTES },
      });
      expect(signals[2]?.payload).toMatchObject({ reason: "slow_consumer", reconnect_allowed: true });
      const slowPushes = rawPushes(slow, chatId).map((m) => Number(m.sequence));
      expect(slowPushes, "pushes before the close: in order, once each").toEqual(
        [...new Set(slowPushes)].sort((p, q) => p - q),
      );
      expect(slowPushes.length).toBeLessThan(total);

      // The others, on the same gateway and on the other one, were not held back: every push, in order.
      for (const [who, peer] of [
        ["same gateway", fast1],
        ["other gateway", fast2],
      ] as const) {
        await waitFor(() => peer.pushed(chatId).length === total, { timeoutMs: 60_000, what: who });
        expect(
          rawPushes(peer, chatId).map((m) => Number(m.sequence)),
          who,
        ).toEqual(range(1, total));
        expect(signalsOf(peer).map((f) => f.type)).toEqual(["connection_established"]);
        expect(peer.closed).toBeUndefined();
      }

      // The slow client comes back as the protocol says: reconnect anywhere, sync from its cursor, ack the top.
      const view = new ClientView().absorb(rawPushes(slow, chatId));
      const cursorAtClose = view.cursor;
      const back = await connect(stack, slowUser);
      peers.push(back);
      const synced = await view.catchUp(back, chatId);
      const stored = await history(stack, slowUser, chatId);
      expectStoredOnce(stored, sent, acks);
      expectViewIsStored(view, stored, "the slow client");
      expect(synced).toBeGreaterThan(0);
      back.send("ack", { chat_id: chatId, last_acked_sequence: total });
      await waitFor(async () => (await deliveredUpTo(stack, slowUser, chatId)) === total, {
        timeoutMs: 30_000,
        what: "the slow client's ack",
      });
      const latency = (at: Map<number, number>) =>
        percentiles(range(1, total).map((s) => (at.get(s) ?? Number.NaN) - (sentAt.get(s) ?? Number.NaN)));
      console.log(
        `slow consumer: ${JSON.stringify({
          messages: total,
          sendMs,
          sendRetries: out.retries,
          ackedWhenClosingSeen: closingAfter,
          slowPushedBeforeClose: cursorAtClose,
          slowSynced: synced,
          sendToPushMsSameGateway: latency(arrived1),
          sendToPushMsOtherGateway: latency(arrived2),
        })}`,
      );
    } finally {
      for (const peer of peers) peer.socket.terminate();
    }
  }, 300_000);

  it("a gateway SIGKILLed in the middle of a burst loses nothing acked: every recipient ends with every message once, in order", async () => {
    // Three recipients and a sender on gateway A; a recipient and a sender on gateway B. Each sender sends one
    // message after another; A dies as soon as its first recipient is pushed the first message.
    const fromB = 60;
    const fromA = 30;
    const devices = ["crash-sb", "crash-sa", "crash-r1", "crash-r2", "crash-r3", "crash-r4"];
    const people = await Promise.all(devices.map((d) => person(stack, d)));
    const [senderB, senderA, r1, r2, r3, r4] = people as [Person, Person, Person, Person, Person, Person];
    const chatId = await groupOf(stack, senderB, people.slice(1));
    const sB = new TrackedSender(await connect(stack, senderB, B));
    let sA = new TrackedSender(await connect(stack, senderA, A));
    const onA = await Promise.all([r1, r2, r3].map((r) => connect(stack, r, A)));
    const [r1OnA, r2OnA, r3OnA] = onA as [WsPeer, WsPeer, WsPeer];
    const r4OnB = await connect(stack, r4, B);
    const peers: WsPeer[] = [sB.peer, sA.peer, ...onA, r4OnB];
    let killed = false;
    try {
      const firstPush = new Promise<"pushed">((resolve) => {
        const onMessage = (data: unknown) => {
          if (!String(data).includes('"type":"message"')) return;
          r1OnA.socket.off("message", onMessage);
          resolve("pushed");
        };
        r1OnA.socket.on("message", onMessage);
      });
      const sent = new Map<string, string>();
      const acks: Ack[] = [];
      let lostWithA = 0;
      const sendFromB = async () => {
        for (let i = 0; i < fromB; i++) {
          const id = randomUUID();
          sent.set(id, `from B ${i}`);
          const ack = await sB.send(chatId, `from B ${i}`, id);
          if (ack === undefined) throw new Error("gateway B's sender lost its connection");
          acks.push(ack);
        }
      };
      const sendFromA = async () => {
        for (let i = 0; i < fromA; i++) {
          const id = randomUUID();
          sent.set(id, `from A ${i}`);
          let ack = await sA.send(chatId, `from A ${i}`, id);
          while (ack === undefined) {
            // Gateway A died with this send in flight: stored or not, the client cannot tell. Resend through B.
            lostWithA++;
            sA = new TrackedSender(await connect(stack, senderA, B));
            peers.push(sA.peer);
            ack = await sA.send(chatId, `from A ${i}`, id);
          }
          acks.push(ack);
        }
      };
      const sending = Promise.all([sendFromB(), sendFromA()]);
      let giveUp: NodeJS.Timeout | undefined;
      const first = await Promise.race([
        firstPush,
        sending.then(() => "every message was sent before gateway A pushed one"),
        new Promise<string>((resolve) => {
          giveUp = setTimeout(() => resolve("gateway A pushed nothing within 60 s"), 60_000);
        }),
      ]).finally(() => clearTimeout(giveUp));
      if (first !== "pushed") throw new Error(first);
      const ackedAtKill = acks.length;
      const pushedOnAAtKill = onA.map((peer) => rawPushes(peer, chatId).length);
      await cluster.kill(A);
      killed = true;
      expect(ackedAtKill, "the kill came in the middle of the burst").toBeLessThan(fromA + fromB);

      // Each recipient keeps what it was pushed, reconnects and syncs from its cursor: r1 to B at once, while
      // the burst goes on; r2 and r3 to A once it is back.
      const views = new Map<WsPeer, ClientView>();
      const rejoin = async (old: WsPeer, who: Person, nodeId: string) => {
        await waitFor(() => old.closed, { timeoutMs: 30_000, what: "a socket to drop with gateway A" });
        const view = new ClientView().absorb(rawPushes(old, chatId));
        const fresh = await connect(stack, who, nodeId);
        peers.push(fresh);
        await view.catchUp(fresh, chatId);
        views.set(fresh, view);
        return fresh;
      };
      const r1Back = await rejoin(r1OnA, r1, B);
      await cluster.restart(A);
      killed = false;
      const [r2Back, r3Back] = await Promise.all([rejoin(r2OnA, r2, A), rejoin(r3OnA, r3, A)]);
      views.set(r4OnB, new ClientView());
      await sending;

      const stored = await history(stack, r4, chatId);
      expectStoredOnce(stored, sent, acks);
      // What each connection was pushed since, then a last sync from the cursor for whatever fanout skipped.
      for (const [who, peer] of [
        ["r1", r1Back],
        ["r2", r2Back],
        ["r3", r3Back],
        ["r4", r4OnB],
      ] as const) {
        const view = views.get(peer) as ClientView;
        const pushes = rawPushes(peer, chatId).map((m) => Number(m.sequence));
        expect(new Set(pushes).size, `${who}: a message pushed twice on one connection`).toBe(pushes.length);
        view.absorb(rawPushes(peer, chatId));
        await view.catchUp(peer, chatId);
        expectViewIsStored(view, stored, who);
      }
      console.log(
        `gateway crash mid-fanout: ${JSON.stringify({
          messages: fromA + fromB,
          ackedAtKill,
          pushedOnAAtKill: pushedOnAAtKill.join("/"),
          sendsLostWithA: lostWithA,
          pushedToR4OnB: rawPushes(r4OnB, chatId).length,
        })}`,
      );
    } finally {
      for (const peer of peers) peer.socket.terminate();
      if (killed) await cluster.restart(A);
    }
  }, 240_000);
});
