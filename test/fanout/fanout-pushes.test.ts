import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SENDER_CONNECTION_FIELD } from "../../actors/fanout/fanout-records.js";
import { DEFAULT_PACING } from "../../actors/fanout/pacing.js";
import { messagePersistedRecord } from "../../runtime/events.js";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import type { ChatId, Sequence, UserId } from "../../runtime/ids.js";
import type { EventRecord } from "../../runtime/ports/event-log.js";
import { engineEndpoint } from "../support/engines.js";
import { waitFor } from "../support/wait-for.js";
import { FanoutFixture, fence, pushedSequences } from "./fanout-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");

/** How pushes go out: timeouts, the sender's connection, pacing. In-process log; every timer on the ManualClock. */
describe.skipIf(!dynamodb || !redisUrl)("fanout pushes to gateways", () => {
  let fixture: FanoutFixture;

  beforeAll(async () => {
    fixture = await FanoutFixture.start({ dynamodb: dynamodb ?? "", redisUrl: redisUrl ?? "" });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const users = (count: number): UserId[] => Array.from({ length: count }, () => fixture.ingest.ids.user());
  const gateways = () => fixture.gateways as [(typeof fixture.gateways)[0], (typeof fixture.gateways)[0]];

  /** A MessagePersisted record as ingest publishes it, optionally naming the sending connection. */
  function persisted(
    chatId: ChatId,
    senderId: UserId,
    sequence: number,
    extra: Record<string, unknown> = {},
  ) {
    const { ids, clock } = fixture.ingest;
    const record = messagePersistedRecord(
      {
        chatId,
        sequence: sequence as Sequence,
        messageId: ids.message(),
        senderId,
        clientMessageId: `client-${sequence}`,
        content: `message ${sequence}`,
        contentType: "text/plain",
        createdAt: clock.now(),
      },
      { eventId: ids.event(), producerId: "ingest-test", eventTime: clock.now() },
    );
    if (Object.keys(extra).length === 0) return record;
    const envelope = JSON.parse(new TextDecoder().decode(record.value));
    envelope.payload = { ...envelope.payload, ...extra };
    return {
      key: record.key,
      value: new TextEncoder().encode(JSON.stringify(envelope)),
    } satisfies EventRecord;
  }

  it("gives up on a gateway that does not answer within the timeout, without holding the partition", async () => {
    const [gatewayA, gatewayB] = gateways();
    const silent: GatewayApi = {
      deliver: () => new Promise(() => {}),
      closeConnections: async () => 0,
      pushEphemeral: async () => ({ delivered: 0, noConnection: 0, dropped: 0 }),
    };
    const worker = await fixture.startWorker({
      gatewayFor: (node) => (node.nodeId === gatewayA.node.nodeId ? silent : fixture.gatewayApi(node)),
      options: { deliverTimeoutMs: 500 },
    });
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayB);
    await fixture.eventLog.publish("messages.persisted", [persisted(chat, alice, 1)]);
    await bobClient.next((frame) => frame.type === "message" && frame.payload.sequence === 1);
    expect(worker.stats().records.done).toBe(0);
    fixture.ingest.clock.advance(500);
    await waitFor(() => worker.stats().records.done === 1, { what: "the record to be done" });
    expect(worker.stats().pushes.timedOutCalls).toBe(1);
    // The next record of the chat is not held back by the silent gateway's first call.
    await fixture.eventLog.publish("messages.persisted", [persisted(chat, alice, 2)]);
    await bobClient.next((frame) => frame.type === "message" && frame.payload.sequence === 2);
    fixture.ingest.clock.advance(500);
    await waitFor(() => worker.stats().records.done === 2, { what: "the second record to be done" });
    for (const client of [aliceClient, bobClient]) client.close();
    await worker.stop();
  });

  it("skips the sending connection named by the event, not the sender's other connections", async () => {
    const [gatewayA, gatewayB] = gateways();
    const worker = await fixture.startWorker();
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const sending = await fixture.open(alice, gatewayA);
    const otherDevice = await fixture.open(alice, gatewayB);
    const bobClient = await fixture.open(bob, gatewayA);
    await fixture.eventLog.publish("messages.persisted", [
      persisted(chat, alice, 1, { [SENDER_CONNECTION_FIELD]: fixture.connectionIdOf(sending) }),
    ]);
    await otherDevice.next((frame) => frame.type === "message" && frame.payload.sequence === 1);
    await bobClient.next((frame) => frame.type === "message" && frame.payload.sequence === 1);
    await waitFor(() => worker.stats().records.done === 1, { what: "the record to be done" });
    await fence(sending);
    expect(pushedSequences(sending, chat)).toEqual([]);
    for (const client of [sending, otherDevice, bobClient]) client.close();
    await worker.stop();
  });

  it("skips a replayed (chat_id, sequence) it already pushed", async () => {
    const [gatewayA] = gateways();
    const worker = await fixture.startWorker();
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const bobClient = await fixture.open(bob, gatewayA);
    const first = persisted(chat, alice, 1);
    await fixture.eventLog.publish("messages.persisted", [first, first, persisted(chat, alice, 2)]);
    await waitFor(() => worker.stats().records.done === 2, { what: "two records done" });
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual([1, 2]);
    expect(worker.stats().skipped.duplicate).toBe(1);
    bobClient.close();
    await worker.stop();
  });

  it("paces a large chat: the first recipients at once, the rest at the configured rate on the clock", async () => {
    const [gatewayA] = gateways();
    const worker = await fixture.startWorker();
    const members = users(60);
    const [sender] = members as [UserId];
    const chat = await fixture.ingest.chatWith(members);
    // Every member is routed to gateway A (as its registry entries say), which holds no socket of theirs.
    const now = fixture.ingest.clock.now();
    await Promise.all(
      members.map((userId) =>
        fixture.connections.register(
          {
            connectionId: fixture.ingest.ids.connection(),
            userId,
            deviceId: `device-${userId}`,
            gatewayId: gatewayA.node.nodeId,
            connectedAt: now,
            lastHeartbeatAt: now,
          },
          600_000,
        ),
      ),
    );
    await fixture.eventLog.publish("messages.persisted", [persisted(chat, sender, 1)]);
    await waitFor(() => worker.stats().pushes.noConnection === DEFAULT_PACING.immediateMembers, {
      what: "the immediate recipients",
    });
    expect(worker.stats().records.done).toBe(0);
    // 100 recipients per second: the other 10 go in the next 100 ms slice.
    fixture.ingest.clock.advance(DEFAULT_PACING.tickMs);
    await waitFor(() => worker.stats().records.done === 1, { what: "the paced record to be done" });
    expect(worker.stats().pushes.noConnection).toBe(60);
    expect(worker.stats().pushes.calls).toBe(2);
    await worker.stop();
  });
});
