import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import type { UserId } from "../../runtime/ids.js";
import { engineEndpoint } from "../support/engines.js";
import { syncAll } from "../support/sync-all.js";
import { waitFor } from "../support/wait-for.js";
import { FanoutFixture, fence, pushedSequences } from "./fanout-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");

/** The same worker on the embedded mode's in-process event log (the log's retry pause runs on the ManualClock). */
describe.skipIf(!dynamodb || !redisUrl)("fanout workers on the in-process event log", () => {
  let fixture: FanoutFixture;

  beforeAll(async () => {
    fixture = await FanoutFixture.start({ dynamodb: dynamodb ?? "", redisUrl: redisUrl ?? "" });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  const users = (count: number): UserId[] => Array.from({ length: count }, () => fixture.ingest.ids.user());

  it("pushes to online members and leaves offline ones to sync", async () => {
    const worker = await fixture.startWorker();
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob, carol] = users(3) as [UserId, UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob, carol]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayB);
    const acks = [];
    for (const content of ["one", "two", "three"]) acks.push(await fixture.send(aliceClient, chat, content));
    const sequences = acks.map((ack) => ack.payload.sequence);
    await waitFor(() => worker.stats().records.done >= 3, { what: "three records done" });
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual(sequences);
    const carolClient = await fixture.open(carol, gatewayA);
    expect(await syncAll(carolClient, chat)).toEqual(sequences);
    for (const client of [aliceClient, bobClient, carolClient]) client.close();
    await worker.stop();
  });

  it("a worker killed mid-batch leaves its records to the next worker of the group", async () => {
    let stalledCalls = 0;
    const stalled = (): GatewayApi => ({
      deliver: () => {
        stalledCalls++;
        return new Promise(() => {});
      },
      closeConnections: async () => 0,
      pushEphemeral: async () => ({ delivered: 0, noConnection: 0, dropped: 0 }),
    });
    const workerA = await fixture.startWorker({ gatewayFor: stalled });
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayB);
    const ack = await fixture.send(aliceClient, chat, "stuck at first");
    await waitFor(() => stalledCalls > 0, { what: "worker A to be pushing" });
    const workerB = await fixture.startWorker();
    await workerA.stop({ abandon: true });
    // The in-process log pauses a failed batch on its (manual) clock before handing it to anyone.
    fixture.ingest.clock.advance(1_000);
    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === ack.payload.sequence,
    );
    expect(workerA.stats().records.done).toBe(0);
    await waitFor(() => workerB.stats().records.done >= 1, { what: "worker B to finish the record" });
    for (const client of [aliceClient, bobClient]) client.close();
    await workerB.stop();
  });
});
