import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeadLetter } from "../../actors/fanout/dead-letters.js";
import { membershipChangedRecord } from "../../runtime/events.js";
import type { UserId } from "../../runtime/ids.js";
import { partitionFor } from "../../runtime/partitioning.js";
import { engineEndpoint } from "../support/engines.js";
import { syncAll } from "../support/sync-all.js";
import { waitFor } from "../support/wait-for.js";
import { FanoutFixture, fence, pushedSequences } from "./fanout-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

describe.skipIf(!dynamodb || !redisUrl || !kafka)("fanout workers on Kafka, Redis and dynalite", () => {
  let fixture: FanoutFixture;

  beforeAll(async () => {
    fixture = await FanoutFixture.start({
      dynamodb: dynamodb ?? "",
      kafka: kafka ?? "",
      redisUrl: redisUrl ?? "",
    });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const users = (count: number): UserId[] => Array.from({ length: count }, () => fixture.ingest.ids.user());

  it("pushes exactly the persisted message to online members on different gateways; offline members lose nothing", async () => {
    const worker = await fixture.startWorker();
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob, carol] = users(3) as [UserId, UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob, carol]);
    const aliceSending = await fixture.open(alice, gatewayA);
    const aliceElsewhere = await fixture.open(alice, gatewayB);
    const bobClient = await fixture.open(bob, gatewayB);

    const ack = await fixture.send(aliceSending, chat, "hello, fanout 👋");
    const expected = {
      message_id: ack.payload.message_id,
      chat_id: chat,
      sequence: ack.payload.sequence,
      sender_id: alice,
      content: "hello, fanout 👋",
      content_type: "text/plain",
      created_at: ack.payload.created_at,
    };
    const toBob = await bobClient.next((frame) => frame.type === "message" && frame.payload.chat_id === chat);
    expect(toBob.payload).toEqual(expected);
    // The sender's other connection (on another gateway) gets it too.
    const toAlice = await aliceElsewhere.next(
      (frame) => frame.type === "message" && frame.payload.chat_id === chat,
    );
    expect(toAlice.payload).toEqual(expected);

    await waitFor(() => worker.stats().records.done >= 1, { what: "the record to be done" });
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual([ack.payload.sequence]);
    expect(worker.stats().routing.routed).toBeGreaterThanOrEqual(1);

    // Carol was offline: nothing was pushed to her, and sync returns the message.
    const carolClient = await fixture.open(carol, gatewayA);
    expect(pushedSequences(carolClient, chat)).toEqual([]);
    expect(await syncAll(carolClient, chat)).toEqual([ack.payload.sequence]);
    for (const client of [aliceSending, aliceElsewhere, bobClient, carolClient]) client.close();
    await worker.stop();
  });

  it("stops pushing to a removed member once the removal event is consumed", async () => {
    const worker = await fixture.startWorker();
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const aliceWatcher = await fixture.open(alice, gatewayB);
    const bobClient = await fixture.open(bob, gatewayB);

    const first = await fixture.send(aliceClient, chat, "before");
    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === first.payload.sequence,
    );

    // Chat management: commit the removal, then publish it.
    expect(await fixture.ingest.chatStore.removeMembership(chat, bob)).toBe(true);
    const now = fixture.ingest.clock.now();
    const eventsBefore = worker.stats().membershipEvents;
    await fixture.eventLog.publish("memberships.changed", [
      membershipChangedRecord(
        {
          chat_id: chat,
          user_id: bob,
          change_type: "removed",
          role: "member",
          changed_by: alice,
          member_count_after: 1,
          changed_at: new Date(now).toISOString(),
        },
        { eventId: fixture.ingest.ids.event(), producerId: "chatmgmt-test", eventTime: now },
      ),
    ]);
    await waitFor(() => worker.stats().membershipEvents > eventsBefore, {
      what: "the removal to be consumed",
    });

    const pushedBefore = worker.stats().pushes.delivered;
    const second = await fixture.send(aliceClient, chat, "after");
    await aliceWatcher.next(
      (frame) => frame.type === "message" && frame.payload.sequence === second.payload.sequence,
    );
    await waitFor(() => worker.stats().records.done >= 2, { what: "the second record to be done" });
    // Alice's watching connection only (the sending one had the ack: the event names it, and fanout skips
    // it); and bob's socket, fenced by a heartbeat, holds no push of it.
    expect(worker.stats().pushes.delivered - pushedBefore).toBe(1);
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual([first.payload.sequence]);
    for (const client of [aliceClient, aliceWatcher, bobClient]) client.close();
    await worker.stop();
  });

  it("dead-letters poison records with their metadata and keeps consuming the partition", async () => {
    const nodeId = "fanout-poison-node";
    const worker = await fixture.startWorker({ nodeId });
    const [gatewayA] = fixture.gateways as [(typeof fixture.gateways)[0]];
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayA);

    const garbage = Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]);
    const unknownType = new TextEncoder().encode(
      JSON.stringify({
        event_id: "evt_x",
        event_type: "MessageExploded",
        event_version: 1,
        event_time: new Date().toISOString(),
        partition_key: chat,
        producer_id: "test",
        trace_id: "t",
        payload: {},
      }),
    );
    // Same key as the chat: the same partition, ahead of the chat's next message.
    const published = await fixture.eventLog.publish("messages.persisted", [
      { key: chat, value: garbage, headers: { "x-processing-attempts": "2" } },
      { key: chat, value: unknownType },
    ]);
    const ack = await fixture.send(aliceClient, chat, "after the poison");
    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === ack.payload.sequence,
    );

    const letters = (await fixture.readTopic(fixture.topics.deadLetters, 2)).map(
      (record) => JSON.parse(new TextDecoder().decode(record.value)) as DeadLetter,
    );
    const partition = partitionFor(chat, 4);
    const ours = letters.filter((letter) => letter.original_record.key === chat);
    expect(ours).toHaveLength(2);
    const [first, second] = ours as [DeadLetter, DeadLetter];
    expect(first.dlq_metadata).toMatchObject({
      original_topic: fixture.topics.messagesPersisted,
      original_partition: partition,
      original_offset: published[0]?.offset,
      consumer_group: fixture.groupId,
      consumer_id: nodeId,
      failure_reason: expect.stringContaining("UTF-8 JSON"),
      processing_attempts: 2,
    });
    expect(Buffer.from(first.original_record.value, "base64")).toEqual(Buffer.from(garbage));
    expect(first.original_record.headers).toEqual({ "x-processing-attempts": "2" });
    expect(second.dlq_metadata).toMatchObject({
      original_offset: published[1]?.offset,
      failure_reason: expect.stringContaining("unknown event_type MessageExploded"),
      processing_attempts: 1,
    });
    expect(Date.parse(second.dlq_metadata.failure_timestamp)).not.toBeNaN();
    expect(Date.parse(second.dlq_metadata.original_timestamp)).not.toBeNaN();
    expect(worker.stats().deadLettered).toBe(2);
    for (const client of [aliceClient, bobClient]) client.close();
    await worker.stop();
  });
});
