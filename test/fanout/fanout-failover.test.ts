import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/free-port.js";
import { DynamoChatStore } from "../../runtime/adapters/dynamodb/chat-store.js";
import { createDynamoClient } from "../../runtime/adapters/dynamodb/client.js";
import { type DynaliteServer, startDynalite } from "../../runtime/adapters/dynamodb/dynalite-server.js";
import { ensureTables } from "../../runtime/adapters/dynamodb/tables.js";
import { messagePersistedRecord } from "../../runtime/events.js";
import type { GatewayApi } from "../../runtime/gateway-api.js";
import type { ChatId, Sequence, UserId } from "../../runtime/ids.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import type { TestClient } from "../support/gateway-harness.js";
import { waitFor } from "../support/wait-for.js";
import { FanoutFixture, fence, pushedSequences } from "./fanout-fixture.js";

const dynamodb = engineEndpoint("dynamodb");
const redisUrl = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

describe.skipIf(!dynamodb || !redisUrl || !kafka)("fanout workers when something fails", () => {
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

  it("a worker killed mid-batch commits nothing: another worker of the group delivers every record", async () => {
    const groupId = uniqueName("fanout-takeover-");
    // Worker A's gateways never answer (and its clock never fires their timeout): it is stuck mid-batch.
    let stalledCalls = 0;
    const stalled = (): GatewayApi => ({
      deliver: () => {
        stalledCalls++;
        return new Promise(() => {});
      },
      closeConnections: async () => 0,
      pushEphemeral: async () => ({ delivered: 0, noConnection: 0, dropped: 0 }),
    });
    const workerA = await fixture.startWorker({ gatewayFor: stalled, options: { groupId } });
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const [alice, bob] = users(2) as [UserId, UserId];
    const chat = await fixture.ingest.chatWith([alice, bob]);
    const aliceClient = await fixture.open(alice, gatewayA);
    const bobClient = await fixture.open(bob, gatewayB);

    const first = await fixture.send(aliceClient, chat, "one");
    await waitFor(() => stalledCalls > 0, { what: "worker A to be pushing" });
    expect(workerA.inFlight()).toEqual([
      { chatId: chat, sequence: first.payload.sequence, state: "pushing" },
    ]);
    const second = await fixture.send(aliceClient, chat, "two");

    // Worker B joins the group; the rebalance completes once A is gone (killed: nothing of its batch commits).
    const startingB = fixture.startWorker({ options: { groupId } });
    await workerA.stop({ abandon: true });
    const workerB = await startingB;

    await bobClient.next(
      (frame) => frame.type === "message" && frame.payload.sequence === second.payload.sequence,
      20_000,
    );
    await fence(bobClient);
    expect(pushedSequences(bobClient, chat)).toEqual([first.payload.sequence, second.payload.sequence]);
    expect(workerA.stats().records.done).toBe(0);
    expect(workerA.stats().batchesHeld).toBeGreaterThanOrEqual(1);
    expect(workerB.stats().records.done).toBeGreaterThanOrEqual(2);
    for (const client of [aliceClient, bobClient]) client.close();
    await workerB.stop();
  });

  it("two workers share the group; when one stops gracefully the other carries on, losing nothing", async () => {
    const groupId = uniqueName("fanout-shared-");
    const first = await fixture.startWorker({ options: { groupId } });
    const second = await fixture.startWorker({ options: { groupId } });
    const [gatewayA, gatewayB] = fixture.gateways as [
      (typeof fixture.gateways)[0],
      (typeof fixture.gateways)[0],
    ];
    const chats: Array<{ chat: ChatId; sending: TestClient }> = [];
    const receivers: TestClient[] = [];
    for (let index = 0; index < 4; index++) {
      const [sender, receiver] = users(2) as [UserId, UserId];
      const chat = await fixture.ingest.chatWith([sender, receiver]);
      chats.push({ chat, sending: await fixture.open(sender, gatewayA) });
      receivers.push(await fixture.open(receiver, gatewayB));
    }
    const sent: number[][] = chats.map(() => []);
    const sendRound = async () => {
      for (const [index, { chat, sending }] of chats.entries()) {
        const ack = await fixture.send(sending, chat, `round for ${index}`);
        sent[index]?.push(Number(ack.payload.sequence));
      }
    };
    await sendRound();
    await sendRound();
    const stopping = first.stop();
    await sendRound();
    await stopping;
    await sendRound();
    for (const [index, receiver] of receivers.entries()) {
      const chat = chats[index]?.chat as ChatId;
      const last = sent[index]?.at(-1);
      await receiver.next(
        (frame) =>
          frame.type === "message" && frame.payload.chat_id === chat && frame.payload.sequence === last,
        20_000,
      );
      await fence(receiver);
      // Every message, in order; a record handed over may come twice (at-least-once), never missing.
      expect([...new Set(pushedSequences(receiver, chat))]).toEqual(sent[index]);
    }
    expect(first.stats().records.done + second.stats().records.done).toBeGreaterThanOrEqual(16);
    for (const client of [...receivers, ...chats.map(({ sending }) => sending)]) client.close();
    await second.stop();
  }, 60_000);

  it("holds a batch while chat members cannot be read, and delivers it once they can", async () => {
    // The durability plane on a dynalite of its own (on disk), stopped and started again on the same port.
    const dataDir = mkdtempSync(join(tmpdir(), "fanout-storage-"));
    const port = await freePort();
    let storage: DynaliteServer | undefined = await startDynalite({
      progress: () => {},
      path: dataDir,
      port,
    });
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1" });
    const tablePrefix = uniqueName("fanoutheld");
    const { clock, ids } = fixture.ingest;
    const chatStore = new DynamoChatStore({ client, tablePrefix, clock });
    try {
      await ensureTables(client, tablePrefix);
      const [alice, bob] = users(2) as [UserId, UserId];
      const chatId = await createActiveChat(chatStore, { ids, clock }, [alice, bob]);
      const worker = await fixture.startWorker({
        chatStore,
        options: { groupId: uniqueName("fanout-held-") },
      });
      const [gatewayB] = fixture.gateways.slice(1) as [(typeof fixture.gateways)[0]];
      const bobClient = await fixture.open(bob, gatewayB);

      await storage.stop();
      storage = undefined;
      const now = clock.now();
      const message = {
        chatId,
        sequence: 1 as Sequence,
        messageId: ids.message(),
        senderId: alice,
        clientMessageId: "c-1",
        content: "held, not lost",
        contentType: "text/plain" as const,
        createdAt: now,
      };
      await fixture.eventLog.publish("messages.persisted", [
        messagePersistedRecord(message, { eventId: ids.event(), producerId: "ingest-test", eventTime: now }),
      ]);
      await waitFor(() => worker.stats().batchesHeld >= 2, {
        what: "the batch to be handed back twice",
        timeoutMs: 20_000,
      });
      expect(worker.stats().records.done).toBe(0);

      storage = await startDynalite({ progress: () => {}, path: dataDir, port });
      const pushed = await bobClient.next(
        (frame) => frame.type === "message" && frame.payload.chat_id === chatId,
        20_000,
      );
      expect(pushed.payload.content).toBe("held, not lost");
      expect(worker.stats().records.held).toBeGreaterThanOrEqual(2);
      bobClient.close();
      await worker.stop();
    } finally {
      client.destroy();
      await storage?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
